//! A tiny HTML writer. Every text and every attribute value goes through [`escape`] in this one
//! place; tag and attribute names are `&'static str` (written by this crate, never by a
//! request), so no data reaches the page unescaped.

use std::fmt::Write as _;

/// `text` with `& < > " '` replaced by entities: safe as element text and as a quoted
/// attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A path segment (an id, or a query value) percent-encoded for a URL: everything but
/// `A-Z a-z 0-9 - . _ ~`. The result still goes through [`escape`] as an attribute.
pub fn url_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// An HTML document being written.
#[derive(Debug, Default)]
pub struct Html {
    out: String,
}

impl Html {
    /// An empty document.
    pub fn new() -> Self {
        Self::default()
    }

    /// `<tag a="v" ...>`.
    pub fn open(&mut self, tag: &'static str, attrs: &[(&'static str, &str)]) -> &mut Self {
        self.out.push('<');
        self.out.push_str(tag);
        for (name, value) in attrs {
            let _ = write!(self.out, " {name}=\"{}\"", escape(value));
        }
        self.out.push('>');
        self
    }

    /// `</tag>`.
    pub fn close(&mut self, tag: &'static str) -> &mut Self {
        let _ = write!(self.out, "</{tag}>");
        self
    }

    /// Escaped text.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.out.push_str(&escape(text));
        self
    }

    /// `<tag attrs>text</tag>`.
    pub fn element(
        &mut self,
        tag: &'static str,
        attrs: &[(&'static str, &str)],
        text: &str,
    ) -> &mut Self {
        self.open(tag, attrs).text(text).close(tag)
    }

    /// `<a href="href">text</a>`.
    pub fn link(&mut self, href: &str, text: &str) -> &mut Self {
        self.element("a", &[("href", href)], text)
    }

    /// A table row of header cells.
    pub fn header_row(&mut self, cells: &[&str]) -> &mut Self {
        self.open("tr", &[]);
        for cell in cells {
            self.element("th", &[], cell);
        }
        self.close("tr")
    }

    /// Appends a fragment written by another writer of this crate (a [`Html`] or an SVG from
    /// [`crate::svg`], both escaped as they were built).
    pub fn fragment(&mut self, fragment: Fragment) -> &mut Self {
        self.out.push_str(&fragment.0);
        self
    }

    /// The document so far, as a fragment to put into another one.
    pub fn into_fragment(self) -> Fragment {
        Fragment(self.out)
    }

    /// The document's text.
    pub fn finish(self) -> String {
        self.out
    }
}

/// Markup built by this crate's writers (escaped where it was built); only they make one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fragment(String);

impl Fragment {
    /// Markup whose every value was escaped by the caller (crate-private: the SVG writer).
    pub(crate) fn trusted(markup: String) -> Self {
        Self(markup)
    }

    /// The markup.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        let mut html = Html::new();
        html.element(
            "td",
            &[("title", "\"><script>x</script>")],
            "<b>'a' & b</b>",
        );
        assert_eq!(
            html.finish(),
            "<td title=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\">\
             &lt;b&gt;&#39;a&#39; &amp; b&lt;/b&gt;</td>"
        );
    }

    #[test]
    fn links_encode_their_segments() {
        assert_eq!(url_segment("n-ok.1_~"), "n-ok.1_~");
        assert_eq!(url_segment("a b/'c"), "a%20b%2F%27c");
        let mut html = Html::new();
        html.link(&format!("/nodes/{}", url_segment("x\"y")), "x\"y");
        assert_eq!(html.finish(), "<a href=\"/nodes/x%22y\">x&quot;y</a>");
    }

    #[test]
    fn fragments_nest() {
        let mut inner = Html::new();
        inner.element("p", &[], "<");
        let mut outer = Html::new();
        outer
            .open("div", &[])
            .fragment(inner.into_fragment())
            .close("div");
        assert_eq!(outer.finish(), "<div><p>&lt;</p></div>");
    }
}
