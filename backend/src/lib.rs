//! Tollgate books API: a books CRUD service that trusts only the authorizer's
//! request context.
//!
//! Not built yet: see the issue "Books backend". The crate exists so the
//! workspace layout of DESIGN.md holds from the first commit.
