//! The error pages: a status and a plain message, in HTML or JSON; never a stack trace or a
//! backend's raw error text for a bug (that goes to the log).

use serde::Serialize;

use crate::html::Html;

/// Why a page could not be shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorPage {
    /// `error`.
    pub page: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// Its reason phrase, e.g. `Not Found`.
    pub title: &'static str,
    /// What happened, in words for an operator.
    pub message: String,
}

impl ErrorPage {
    /// A page for `status` (one of 400, 401, 404, 500, 503) with `message`.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        let title = match status {
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            503 => "Service Unavailable",
            _ => "Internal Server Error",
        };
        Self {
            page: "error",
            status,
            title,
            message: message.into(),
        }
    }
}

/// The page's HTML.
pub fn render(page: &ErrorPage) -> String {
    let mut html = Html::new();
    let title = format!("{} {}", page.status, page.title);
    html.open("html", &[("lang", "en")])
        .open("head", &[])
        .open("meta", &[("charset", "utf-8")])
        .element("title", &[], &title)
        .open("link", &[("rel", "stylesheet"), ("href", "/assets/ui.css")])
        .close("head")
        .open("body", &[])
        .open("header", &[])
        .open("nav", &[])
        .link("/", "Fleet overview")
        .close("nav")
        .element("h1", &[], &title)
        .close("header")
        .open("main", &[])
        .element("p", &[("class", "error")], &page.message)
        .close("main")
        .close("body")
        .close("html");
    format!("<!DOCTYPE html>{}", html.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_escaped_and_titled() {
        let page = ErrorPage::new(404, "no node <x>");
        assert_eq!(page.title, "Not Found");
        let html = render(&page);
        assert!(html.contains("<h1>404 Not Found</h1>"));
        assert!(html.contains("no node &lt;x&gt;"));
        assert_eq!(ErrorPage::new(503, "").title, "Service Unavailable");
    }
}
