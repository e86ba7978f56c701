//! The docs' relative links resolve: every `[text](target)` in README.md,
//! docs/*.md and the Terraform READMEs names a file that exists, and a
//! `#fragment` names a heading of that file (GitHub's anchor rules). Links
//! to other sites are not fetched (the tests run offline).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The Markdown files a reader navigates between.
fn documents() -> Vec<PathBuf> {
    let root = Path::new(ROOT);
    let mut found = vec![root.join("README.md")];
    for dir in ["docs", "infra/modules/authorizer", "infra/examples"] {
        collect(&root.join(dir), &mut found);
    }
    found.sort();
    found
}

fn collect(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_none_or(|n| n != ".terraform") {
                collect(&path, found);
            }
        } else if path.extension().is_some_and(|e| e == "md") {
            found.push(path);
        }
    }
}

/// The text outside fenced code blocks, line by line.
fn prose(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect()
}

/// Link targets of `[text](target)` on one line, code spans left out.
fn link_targets(line: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut in_code = false;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'`' => in_code = !in_code,
            b']' if !in_code && bytes.get(i + 1) == Some(&b'(') => {
                if let Some(end) = line[i + 2..].find(')') {
                    targets.push(line[i + 2..i + 2 + end].trim().to_owned());
                    i += 2 + end;
                }
            }
            _ => {}
        }
        i += 1;
    }
    targets
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces
/// to hyphens (and `-1`, `-2`, ... for repeats).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for line in prose(text) {
        let Some(heading) = line
            .strip_prefix('#')
            .map(|rest| rest.trim_start_matches('#'))
            .filter(|rest| rest.starts_with(' '))
        else {
            continue;
        };
        let slug: String = heading
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        let mut anchor = slug.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{slug}-{n}");
        }
        seen.insert(anchor);
    }
    seen
}

fn broken_links(document: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(document).unwrap_or_default();
    let mut broken = Vec::new();
    for line in prose(&text) {
        for target in link_targets(line) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, fragment) = match target.split_once('#') {
                Some((file, fragment)) => (file, Some(fragment)),
                None => (target.as_str(), None),
            };
            let linked = if file.is_empty() {
                document.to_path_buf()
            } else {
                document.parent().unwrap_or(Path::new(ROOT)).join(file)
            };
            if !linked.exists() {
                broken.push(format!("{target}: no such file"));
                continue;
            }
            if let Some(fragment) = fragment {
                let linked_text = std::fs::read_to_string(&linked).unwrap_or_default();
                if !anchors(&linked_text).contains(fragment) {
                    broken.push(format!("{target}: no heading with that anchor"));
                }
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_in_the_docs_resolves() {
    let documents = documents();
    assert!(
        documents.len() >= 9,
        "README.md and docs/ not found: {documents:?}"
    );
    let broken: Vec<String> = documents
        .iter()
        .flat_map(|document| {
            let name = document.strip_prefix(ROOT).unwrap_or(document).display();
            broken_links(document)
                .into_iter()
                .map(move |problem| format!("{name}: {problem}"))
        })
        .collect();
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn readme_links_every_docs_page() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap_or_default();
    let linked: BTreeSet<String> = prose(&readme).into_iter().flat_map(link_targets).collect();
    let mut pages = Vec::new();
    collect(&Path::new(ROOT).join("docs"), &mut pages);
    assert!(!pages.is_empty(), "no docs/ pages");
    for page in pages {
        let name = page
            .strip_prefix(ROOT)
            .unwrap_or(&page)
            .display()
            .to_string();
        let name = name.trim_start_matches('/');
        assert!(
            linked.contains(name),
            "README.md does not link {name} (its docs map should)"
        );
    }
}

#[test]
fn the_link_checker_sees_a_broken_link_and_an_unknown_anchor() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let page = dir.path().join("page.md");
    std::fs::write(
        dir.path().join("other.md"),
        "# Other page\n\n## Measured: cold start\n",
    )
    .unwrap_or_else(|e| panic!("write: {e}"));
    std::fs::write(
        &page,
        "[ok](other.md#measured-cold-start) [gone](missing.md) [bad](other.md#nowhere)\n\
         `[code](missing-too.md)`\n```\n[fenced](missing-three.md)\n```\n",
    )
    .unwrap_or_else(|e| panic!("write: {e}"));
    assert_eq!(
        broken_links(&page),
        vec![
            "missing.md: no such file".to_owned(),
            "other.md#nowhere: no heading with that anchor".to_owned()
        ]
    );
}
