//! The IETF Token Status List (draft-ietf-oauth-status-list): how the
//! status of many tokens travels as one compressed bit array inside a signed
//! `statuslist+jwt`. The issuer encodes lists ([`StatusList::encode`]) and
//! the authorizer decodes them ([`StatusList::decode`], bounded so that a
//! list bomb is refused before it is inflated), so both read the bits the
//! same way.
//!
//! ```
//! use status_list::{Bits, StatusList, INVALID, VALID};
//!
//! let mut list = StatusList::new(Bits::One, 16);
//! list.set(3, INVALID)?;
//! let lst = list.encode();
//! let read = StatusList::decode(Bits::One, &lst, 1024)?;
//! assert_eq!(read.get(3), Some(INVALID));
//! assert_eq!(read.get(4), Some(VALID));
//! assert_eq!(read.get(16), None); // out of range: no statement, refuse the token
//! # Ok::<(), status_list::ListError>(())
//! ```
//!
//! The map: `list` (the bit array and its `lst` encoding), `claims` (the
//! JSON members of a referenced token and of a status list token).

#![deny(missing_docs)]

mod claims;
mod list;

pub use claims::{StatusListClaim, StatusReference};
pub use list::{Bits, ListError, StatusList};

/// The header `typ` of a status list token in JWT form.
pub const TYP: &str = "statuslist+jwt";
/// The media type a status list token is served as.
pub const MEDIA_TYPE: &str = "application/statuslist+jwt";

/// Status type `VALID` (0x00): the token is good.
pub const VALID: u8 = 0x00;
/// Status type `INVALID` (0x01): the token is revoked.
pub const INVALID: u8 = 0x01;
/// Status type `SUSPENDED` (0x02): temporarily invalid.
pub const SUSPENDED: u8 = 0x02;
