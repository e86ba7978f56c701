//! The books API's access rules: which scope each action needs, and who may
//! change a book. The caller itself comes from the authorizer's request
//! context (the `identity` crate).

use identity::{Caller, Problem};

/// Reading books.
pub const READ_SCOPE: &str = "books:read";
/// Creating books, and changing or deleting one's own.
pub const WRITE_SCOPE: &str = "books:write";
/// May change or delete any book, not only its own.
pub const ADMIN_SCOPE: &str = "books:admin";

/// The books API's checks on a caller.
pub trait CallerRules {
    /// Defence in depth: the authorizer already checked the route's scope.
    fn require(&self, scope: &str) -> Result<(), Problem>;
    /// Owners (same `sub` from the same issuer) and admins may change a book.
    fn may_change(&self, book: &crate::model::Book) -> bool;
    /// The caller's own shelf (its `sub`), or any for admins.
    fn may_read_shelf(&self, owner: &str) -> bool;
}

impl CallerRules for Caller {
    fn require(&self, scope: &str) -> Result<(), Problem> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(Problem::forbidden(format!("this needs the {scope} scope")))
        }
    }

    fn may_change(&self, book: &crate::model::Book) -> bool {
        let same_owner = self.sub == book.owner && self.iss == book.owner_issuer;
        same_owner || self.has_scope(ADMIN_SCOPE)
    }

    fn may_read_shelf(&self, owner: &str) -> bool {
        self.sub == owner || self.has_scope(ADMIN_SCOPE)
    }
}
