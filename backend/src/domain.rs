//! Parse, don't validate: API input becomes these types only when every rule
//! holds, and each broken rule is reported against its field.

use shared::{NewComment, NewPost, PostPatch, UserId, UserPatch};
use std::collections::BTreeMap;

/// Field name -> message.
pub type FieldErrors = BTreeMap<String, String>;

/// Characters that show nothing: zero-width and joiner characters, bidi
/// marks and overrides, word joiners and invisible operators, the BOM,
/// variation selectors, Hangul fillers, tag characters, soft hyphen.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// Trimmed text whose length in characters lies within bounds, that shows
/// something, and holds no control characters (a body may hold line breaks
/// and tabs: `multiline`).
fn text(
    errors: &mut FieldErrors,
    field: &str,
    value: &str,
    max: usize,
    multiline: bool,
) -> Option<String> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    let allowed_control = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if len == 0 {
        errors.insert(field.into(), format!("{field} must not be empty"));
        None
    } else if trimmed
        .chars()
        .any(|c| c.is_control() && !allowed_control(c))
    {
        errors.insert(
            field.into(),
            format!("{field} must not contain control characters"),
        );
        None
    } else if trimmed
        .chars()
        .all(|c| is_invisible(c) || c.is_whitespace())
    {
        errors.insert(
            field.into(),
            format!("{field} must contain visible characters"),
        );
        None
    } else if len > max {
        errors.insert(
            field.into(),
            format!("{field} must be at most {max} characters (got {len})"),
        );
        None
    } else {
        Some(trimmed.to_owned())
    }
}

/// `local@domain.tld`, no whitespace, at most 254 characters.
fn email(errors: &mut FieldErrors, field: &str, value: &str) -> Option<String> {
    let value = value.trim();
    let looks_valid = value.len() <= 254
        && !value.chars().any(char::is_whitespace)
        && match value.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if looks_valid {
        Some(value.to_owned())
    } else {
        errors.insert(field.into(), format!("{field} must be an email address"));
        None
    }
}

const TITLE_MAX: usize = 200;
const BODY_MAX: usize = 10_000;
const NAME_MAX: usize = 100;

/// A post ready to insert (the author's existence is checked in the transaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidNewPost {
    pub user_id: UserId,
    pub title: String,
    pub body: String,
}

impl ValidNewPost {
    pub fn parse(input: NewPost) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let title = text(&mut errors, "title", &input.title, TITLE_MAX, false);
        let body = text(&mut errors, "body", &input.body, BODY_MAX, true);
        match (title, body) {
            (Some(title), Some(body)) => Ok(Self {
                user_id: input.user_id,
                title,
                body,
            }),
            _ => Err(errors),
        }
    }
}

/// A post edit with at least one valid field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidPostPatch {
    pub title: Option<String>,
    pub body: Option<String>,
    pub user_id: Option<UserId>,
}

impl ValidPostPatch {
    pub fn parse(input: PostPatch) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let title = input
            .title
            .as_deref()
            .map(|t| text(&mut errors, "title", t, TITLE_MAX, false));
        let body = input
            .body
            .as_deref()
            .map(|b| text(&mut errors, "body", b, BODY_MAX, true));
        if title.is_none() && body.is_none() && input.user_id.is_none() {
            errors.insert(
                "body".into(),
                "a patch must change at least one of title, body, user_id".into(),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            title: title.flatten(),
            body: body.flatten(),
            user_id: input.user_id,
        })
    }
}

/// A user edit with at least one valid field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidUserPatch {
    pub name: Option<String>,
    pub email: Option<String>,
}

impl ValidUserPatch {
    pub fn parse(input: UserPatch) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = input
            .name
            .as_deref()
            .map(|n| text(&mut errors, "name", n, NAME_MAX, false));
        let mail = input
            .email
            .as_deref()
            .map(|e| email(&mut errors, "email", e));
        if name.is_none() && mail.is_none() {
            errors.insert(
                "name".into(),
                "a patch must change at least one of name, email".into(),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            name: name.flatten(),
            email: mail.flatten(),
        })
    }
}

/// A comment ready to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidNewComment {
    pub name: String,
    pub email: String,
    pub body: String,
}

impl ValidNewComment {
    pub fn parse(input: NewComment) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = text(&mut errors, "name", &input.name, NAME_MAX, false);
        let mail = email(&mut errors, "email", &input.email);
        let body = text(&mut errors, "body", &input.body, BODY_MAX, true);
        match (name, mail, body) {
            (Some(name), Some(email), Some(body)) => Ok(Self { name, email, body }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(title: &str, body: &str) -> NewPost {
        NewPost {
            user_id: UserId(1),
            title: title.into(),
            body: body.into(),
        }
    }

    #[test]
    fn titles_are_trimmed_and_bounded_in_characters() {
        assert_eq!(
            ValidNewPost::parse(post("  hi  ", "b")).unwrap().title,
            "hi"
        );
        assert!(ValidNewPost::parse(post(&"é".repeat(200), "b")).is_ok());
        let errors = ValidNewPost::parse(post(&"é".repeat(201), "b")).unwrap_err();
        assert!(errors["title"].contains("at most 200"));
        let errors = ValidNewPost::parse(post("   ", "")).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
    }

    #[test]
    fn body_limit_is_ten_thousand() {
        assert!(ValidNewPost::parse(post("t", &"x".repeat(10_000))).is_ok());
        for (title, why) in [
            ("\u{200b}", "visible"),
            ("\u{202e}", "visible"),
            ("\u{200b}\u{feff} \u{2060}", "visible"),
            ("a\u{0000}b", "control"),
            ("line\nbreak", "control"),
        ] {
            let errors = ValidNewPost::parse(post(title, "b")).unwrap_err();
            assert!(errors["title"].contains(why), "{title:?}: {errors:?}");
        }
        assert!(ValidNewPost::parse(post("caf\u{e9} \u{200d}ok", "two\nlines\tand a tab")).is_ok());
        let errors = ValidNewPost::parse(post("t", "a\u{0007}bell")).unwrap_err();
        assert!(errors["body"].contains("control"), "{errors:?}");
        assert!(ValidNewPost::parse(post("t", &"x".repeat(10_001))).is_err());
    }

    #[test]
    fn emails_must_look_like_emails() {
        for good in ["a@b.co", "first.last@sub.example.org"] {
            let mut e = FieldErrors::new();
            assert!(email(&mut e, "email", good).is_some(), "{good}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@@b.co", "a b@c.de", "a@.b", "a@b.",
        ] {
            let mut e = FieldErrors::new();
            assert!(email(&mut e, "email", bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn empty_patches_are_rejected() {
        assert!(ValidPostPatch::parse(PostPatch::default()).is_err());
        assert!(ValidUserPatch::parse(UserPatch::default()).is_err());
        let ok = ValidUserPatch::parse(UserPatch {
            name: Some(" Ann ".into()),
            email: None,
        })
        .unwrap();
        assert_eq!(ok.name.as_deref(), Some("Ann"));
    }

    #[test]
    fn comments_report_every_bad_field() {
        let errors = ValidNewComment::parse(NewComment {
            name: "".into(),
            email: "nope".into(),
            body: "".into(),
        })
        .unwrap_err();
        assert_eq!(
            errors.keys().map(String::as_str).collect::<Vec<_>>(),
            ["body", "email", "name"]
        );
    }
}
