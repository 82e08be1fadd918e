//! The book's diagrams: ` ```bob ` blocks in the chapters, which the
//! `mdbook-svgbob` preprocessor draws as inline SVG when the book is built.
//!
//! The check reads the built HTML: each chapter must hold as many svgbob
//! drawings as its source has diagrams, each a well-formed SVG element with
//! something drawn in it. A diagram the preprocessor skipped (a typo in the
//! fence, the preprocessor missing from `book.toml`) or drew as nothing
//! fails the step.

use std::path::Path;

use super::markdown;

/// The language of a diagram block.
pub const LANGUAGE: &str = "bob";

/// Checks every chapter's diagrams in the built book `out`. Returns how
/// many there are.
///
/// # Errors
///
/// A chapter whose HTML is missing or does not hold its diagrams drawn.
pub fn check(src: &Path, out: &Path, chapters: &[std::path::PathBuf]) -> Result<usize, String> {
    let mut total = 0;
    for chapter in chapters {
        let text = std::fs::read_to_string(chapter)
            .map_err(|e| format!("cannot read {}: {e}", chapter.display()))?;
        let wanted = markdown::blocks(chapter, &text)?
            .iter()
            .filter(|b| b.language() == LANGUAGE)
            .count();
        if wanted == 0 {
            continue;
        }
        let rel = chapter.strip_prefix(src).unwrap_or(chapter);
        let html_file = out.join(rel).with_extension("html");
        let html = std::fs::read_to_string(&html_file).map_err(|e| {
            format!(
                "{}: has {wanted} diagram(s) but its page {} cannot be read: {e}",
                chapter.display(),
                html_file.display()
            )
        })?;
        let drawn = drawings(&html).map_err(|e| {
            format!(
                "{}: a diagram is not a valid drawing: {e}",
                chapter.display()
            )
        })?;
        if drawn != wanted {
            return Err(format!(
                "{}: {wanted} diagram(s) in the source but {drawn} drawn in {} \
                 (is the svgbob preprocessor in book.toml, and each fence exactly ```bob?)",
                chapter.display(),
                html_file.display()
            ));
        }
        total += wanted;
    }
    Ok(total)
}

/// The number of svgbob drawings in a page, each checked to be a
/// well-formed `<svg>` element holding something drawn.
pub fn drawings(html: &str) -> Result<usize, String> {
    let mut count = 0;
    let mut rest = html;
    while let Some(at) = rest.find("<svg") {
        let svg = &rest[at..];
        let end = svg
            .find("</svg>")
            .ok_or("an <svg> element is never closed")?
            + "</svg>".len();
        let element = &svg[..end];
        rest = &svg[end..];
        let open_tag = &element[..element.find('>').unwrap_or(element.len())];
        if !open_tag.contains("svgbob") {
            continue;
        }
        well_formed(element)?;
        if !["<line", "<path", "<polygon", "<circle", "<text", "<rect"]
            .iter()
            .any(|tag| element.contains(tag))
        {
            return Err("an svgbob drawing with nothing drawn in it".to_owned());
        }
        count += 1;
    }
    Ok(count)
}

/// Checks that the tags of `xml` nest: every start tag is closed by the
/// matching end tag, in order. (Enough to catch a drawing cut short or
/// mangled on its way into the page; attributes are not parsed beyond
/// quoting.)
pub fn well_formed(xml: &str) -> Result<(), String> {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = xml;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt + 1..];
        if let Some(comment) = rest.strip_prefix("!--") {
            let end = comment.find("-->").ok_or("a comment is never closed")?;
            rest = &comment[end + 3..];
            continue;
        }
        let end = tag_end(rest).ok_or("a tag is never closed")?;
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim();
            match open.pop() {
                Some(top) if top == name => {}
                Some(top) => return Err(format!("</{name}> closes <{top}>")),
                None => return Err(format!("</{name}> closes nothing")),
            }
        } else if !tag.ends_with('/') && !tag.starts_with('!') && !tag.starts_with('?') {
            let name = tag.split_whitespace().next().unwrap_or("");
            if name.is_empty() {
                return Err("a tag with no name".to_owned());
            }
            open.push(name);
        }
    }
    match open.last() {
        Some(name) => Err(format!("<{name}> is never closed")),
        None => Ok(()),
    }
}

/// The index of the `>` ending a tag, skipping quoted attribute values.
fn tag_end(tag: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in tag.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_svgbob_drawings_only() {
        let html = "<p><svg class=\"icon\"><path d=\"\"/></svg></p>\
                    <div><svg xmlns=\"x\" class=\"svgbob\" viewBox=\"0 0 1 1\">\
                    <style>a > b {}</style><g><line x1=\"0\"/></g></svg></div>";
        assert_eq!(drawings(html), Ok(1));
    }

    #[test]
    fn refuses_broken_or_empty_drawings() {
        assert!(drawings("<svg class=\"svgbob\"><g></svg>").is_err());
        assert!(drawings("<svg class=\"svgbob\"><g></g></svg>").is_err());
        assert!(drawings("<svg class=\"svgbob\"><line/>").is_err());
    }

    #[test]
    fn checks_nesting() {
        assert_eq!(well_formed("<a x='>'><b/><!-- <c> --></a>"), Ok(()));
        assert!(well_formed("<a><b></a></b>").is_err());
        assert!(well_formed("</a>").is_err());
        assert!(well_formed("<a").is_err());
    }
}
