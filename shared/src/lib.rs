//! The one source of truth both sides compile against.
//!
//! The backend serialises these types into API responses, SSE events and the
//! data of the state it embeds into its pages (in querent's dehydrated
//! format); the SPA deserialises the very same types. Query keys and the route table live here too, so the server
//! prerenders exactly the queries a page's loader asks for.

#![warn(missing_docs)]

pub mod dto;
pub mod error;
pub mod events;
pub mod forms;
pub mod hydration;
pub mod ids;
pub mod query_key;
pub mod routes;
pub mod time;

pub use dto::*;
pub use error::{ErrorBody, ErrorDetail};
pub use events::{EventKind, ServerEvent};
pub use forms::{FORMS_ELEMENT_ID, FormAction, FormState, RefusedForm};
pub use hydration::InfiniteData;
pub use ids::{CommentId, PostId, UserId};
pub use query_key::QueryKey;
pub use routes::{Loader, ReturnTo, Route};
pub use time::{DateTimeParts, Timestamp};
