//! The app's forms as plain HTML forms: where each one posts, what its
//! fields are called, and what a page tells its forms (the idempotency key
//! to send, and what a refused post had typed and why).
//!
//! Every form of the app is a real `<form method="post" action=…>`: without
//! JavaScript (or before the app has taken the page over) the browser posts
//! it as `application/x-www-form-urlencoded` to the [`FormAction`] path, the
//! backend applies it through the same write path as the JSON API and
//! answers `303 See Other` to the page that shows the result, or re-renders
//! the page with a [`RefusedForm`] (422). Once the app runs, it takes the
//! same forms over (optimistic, queued offline) with the same idempotency
//! key.

use crate::ids::{PostId, UserId};
use crate::routes::{ReturnTo, Route};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `id` of the `<script type="application/json">` holding the page's
/// [`FormState`].
pub const FORMS_ELEMENT_ID: &str = "__FORMS__";

/// The hidden field carrying a form post's idempotency key.
pub const IDEMPOTENCY_FIELD: &str = "idempotency_key";

/// The hidden field naming the page to return to (one of the routes that
/// show the form; anything else is ignored).
pub const RETURN_TO_FIELD: &str = "return_to";

/// How a page's own key starts. A rendered page is shared by everyone who
/// loads it (the server keeps it until the data changes), so its key is
/// not one person's: the server scopes it to what was posted (the same
/// form posted twice from that page applies once). A browser with
/// JavaScript replaces it, as the form is submitted, with a random key of
/// its own (the page's inline script), which the app adopts if it takes the
/// page over before the answer arrives.
pub const PAGE_KEY_PREFIX: &str = "page-";

/// What a page tells its forms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormState {
    /// The page's idempotency key (starts with [`PAGE_KEY_PREFIX`]).
    pub nonce: String,
    /// The form post this page answers, when it was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<RefusedForm>,
}

/// A refused form post: what was typed (so nothing is lost) and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedForm {
    /// Which form ([`FormAction::form`]).
    pub form: String,
    /// Every field as posted (but the idempotency key).
    pub fields: BTreeMap<String, String>,
    /// Field name -> message.
    #[serde(default)]
    pub errors: BTreeMap<String, String>,
    /// What went wrong beyond the fields, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl FormState {
    /// The refusal of `form`, if this page answers one.
    pub fn refused_of(&self, form: &str) -> Option<&RefusedForm> {
        self.refused.as_ref().filter(|r| r.form == form)
    }

    /// What `form`'s `field` held when it was refused.
    pub fn value(&self, form: &str, field: &str) -> Option<&str> {
        self.refused_of(form)?.fields.get(field).map(String::as_str)
    }

    /// Why `form`'s `field` was refused.
    pub fn error(&self, form: &str, field: &str) -> Option<&str> {
        self.refused_of(form)?.errors.get(field).map(String::as_str)
    }
}

/// Every form of the app, by where it posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormAction {
    /// `POST /posts`: a new post (`title`, `body`, `user_id`), with an
    /// optional first comment (`comment_name`, `comment_email`,
    /// `comment_body`). 303 to the new post.
    NewPost,
    /// `POST /posts/{id}/comments`: `name`, `email`, `body`. 303 back.
    Comment(PostId),
    /// `POST /posts/{id}/edit`: `title`, `body`, `user_id` (another author
    /// moves the post), `previous_user_id` (the author the form showed).
    /// 303 back.
    EditPost(PostId),
    /// `POST /posts/{id}/delete`. 303 to `/posts`.
    DeletePost(PostId),
    /// `POST /users/{id}`: `name`, `email`. 303 back.
    EditUser(UserId),
    /// `POST /sign-in`: `email`, `password`, `return_to`. Sets the session
    /// cookie; 303 to the `return_to` page (see [`crate::ReturnTo`]).
    SignIn,
    /// `POST /sign-out`: ends the session. 303 to `/`.
    SignOut,
}

impl FormAction {
    /// The path the form posts to.
    pub fn path(&self) -> String {
        match self {
            FormAction::NewPost => "/posts".into(),
            FormAction::Comment(id) => format!("/posts/{id}/comments"),
            FormAction::EditPost(id) => format!("/posts/{id}/edit"),
            FormAction::DeletePost(id) => format!("/posts/{id}/delete"),
            FormAction::EditUser(id) => format!("/users/{id}"),
            FormAction::SignIn => "/sign-in".into(),
            FormAction::SignOut => "/sign-out".into(),
        }
    }

    /// The form a path posts to, if any.
    pub fn parse(path: &str) -> Option<FormAction> {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
        let id = |s: &str| {
            s.parse::<i64>()
                .ok()
                .filter(|n| *n > 0 && s == n.to_string())
        };
        match segments.as_slice() {
            ["posts"] => Some(FormAction::NewPost),
            ["posts", n, "comments"] => id(n).map(|n| FormAction::Comment(PostId(n))),
            ["posts", n, "edit"] => id(n).map(|n| FormAction::EditPost(PostId(n))),
            ["posts", n, "delete"] => id(n).map(|n| FormAction::DeletePost(PostId(n))),
            ["users", n] => id(n).map(|n| FormAction::EditUser(UserId(n))),
            ["sign-in"] => Some(FormAction::SignIn),
            ["sign-out"] => Some(FormAction::SignOut),
            _ => None,
        }
    }

    /// The form's name (its element id without `-form`).
    pub fn form(&self) -> &'static str {
        match self {
            FormAction::NewPost => "new-post",
            FormAction::Comment(_) => "new-comment",
            FormAction::EditPost(_) => "edit-post",
            FormAction::DeletePost(_) => "delete-post",
            FormAction::EditUser(_) => "edit-user",
            FormAction::SignIn => "sign-in",
            FormAction::SignOut => "sign-out",
        }
    }

    /// The pages that show the form; the first is where a post returns to
    /// when it names none of them.
    pub fn pages(&self) -> Vec<Route> {
        match *self {
            FormAction::NewPost => vec![Route::Posts],
            FormAction::Comment(id) | FormAction::EditPost(id) | FormAction::DeletePost(id) => {
                vec![Route::Post(id), Route::PostDeep(id)]
            }
            FormAction::EditUser(id) => vec![Route::User(id)],
            FormAction::SignIn => vec![Route::SignIn(ReturnTo::default())],
            FormAction::SignOut => vec![Route::Home],
        }
    }

    /// The page a post of this form returns to: `return_to` when it is one
    /// of [`FormAction::pages`] (so no post can send a browser elsewhere);
    /// signing out, shown on every page, returns to any page of the app.
    /// Signing in, `return_to` is the page to go to once signed in: the
    /// post's page is the sign-in page that carries it.
    pub fn page(&self, return_to: Option<&str>) -> Route {
        if *self == FormAction::SignIn {
            return Route::SignIn(return_to.map(ReturnTo::parse).unwrap_or_default());
        }
        let pages = self.pages();
        let any_page = *self == FormAction::SignOut;
        return_to
            .map(Route::parse)
            .filter(|r| {
                pages.contains(r) || (any_page && !matches!(r, Route::NotFound | Route::Redirect))
            })
            .unwrap_or(pages[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_parses_back_from_its_path() {
        for action in [
            FormAction::NewPost,
            FormAction::Comment(PostId(3)),
            FormAction::EditPost(PostId(3)),
            FormAction::DeletePost(PostId(3)),
            FormAction::EditUser(UserId(7)),
            FormAction::SignIn,
            FormAction::SignOut,
        ] {
            assert_eq!(FormAction::parse(&action.path()), Some(action));
        }
        for path in [
            "/",
            "/posts/0/edit",
            "/posts/01/edit",
            "/posts/x/delete",
            "/users",
            "/posts/3",
        ] {
            assert_eq!(FormAction::parse(path), None, "{path}");
        }
    }

    #[test]
    fn a_post_returns_only_to_a_page_of_its_form() {
        let edit = FormAction::EditPost(PostId(3));
        assert_eq!(edit.page(Some("/posts/3/deep")), Route::PostDeep(PostId(3)));
        assert_eq!(edit.page(Some("/posts/4")), Route::Post(PostId(3)));
        assert_eq!(edit.page(Some("//evil.example")), Route::Post(PostId(3)));
        assert_eq!(edit.page(None), Route::Post(PostId(3)));
        let out = FormAction::SignOut;
        assert_eq!(out.page(Some("/posts/4")), Route::Post(PostId(4)));
        assert_eq!(out.page(Some("//evil.example")), Route::Home);
        assert_eq!(out.page(Some("/redirect")), Route::Home);
    }
}
