//! The route table a program gives the authorizer when the environment has
//! none: each route's scopes (`ROUTE_SCOPES`) and the rules on some of them
//! (`ROUTE_RULES`), checked against each other.

use std::sync::Arc;

use crate::route_rules::{RouteRules, RouteRulesError};
use crate::route_scopes::{RouteScopes, RouteScopesError};

/// Scopes and rules, as one table.
#[derive(Clone, Debug)]
pub struct RouteTable {
    /// Which scopes grant each route.
    pub scopes: RouteScopes,
    /// The rules on some of those routes.
    pub rules: Arc<RouteRules>,
}

/// Why a route table was refused.
#[derive(Debug, thiserror::Error)]
pub enum RouteTableError {
    /// The scopes.
    #[error("ROUTE_SCOPES: {0}")]
    Scopes(#[from] RouteScopesError),
    /// The rules.
    #[error("ROUTE_RULES: {0}")]
    Rules(#[from] RouteRulesError),
}

impl RouteTable {
    /// Reads both JSON documents (rules optional).
    pub fn from_json(scopes: &str, rules: Option<&str>) -> Result<Self, RouteTableError> {
        let scopes = RouteScopes::from_json(scopes)?;
        let rules = match rules {
            Some(json) => RouteRules::from_json(json, &scopes)?,
            None => RouteRules::none(),
        };
        Ok(Self {
            scopes,
            rules: Arc::new(rules),
        })
    }
}

impl From<RouteTableError> for crate::ConfigError {
    fn from(error: RouteTableError) -> Self {
        match error {
            RouteTableError::Scopes(e) => Self::RouteScopes(e),
            RouteTableError::Rules(e) => Self::RouteRules(e),
        }
    }
}

impl From<RouteScopes> for RouteTable {
    fn from(scopes: RouteScopes) -> Self {
        Self {
            scopes,
            rules: Arc::new(RouteRules::none()),
        }
    }
}
