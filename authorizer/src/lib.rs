//! Tollgate authorizer: JWT verification for API Gateway (see the issue "Authorizer").
