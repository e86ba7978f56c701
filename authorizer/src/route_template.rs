//! A route's path read as API Gateway reads it: `/`-separated segments, each
//! a literal (which may hold `*`, a wildcard as in an execute-api ARN), a
//! path parameter `{name}` (one segment) or a greedy `{name+}` (the rest,
//! last only).
//!
//! Two readings matter for policies. The *resource* reading is what a policy
//! names: every parameter is `*`, which IAM lets match across `/`. The
//! *request* reading is what API Gateway routes to the route: a `{name}`
//! never spans a `/`. Route rules are checked for overlap between the two
//! ([`Pattern::meets`]), where comparing resources with resources would
//! refuse tables that are safe.

use std::borrow::Cow;

/// One segment of a route path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Literal text; `*` in it matches any run of characters.
    Literal(String),
    /// `{name}`: one segment.
    Param(String),
    /// `{name+}`: one or more segments, always the last.
    Greedy(String),
}

/// A parsed route path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RouteTemplate {
    pub(crate) segments: Vec<Segment>,
}

impl RouteTemplate {
    /// Reads `path` (`/tenants/{tenant}/orders`); `None` for braces anywhere
    /// but around a whole segment, a parameter name that is not
    /// `[A-Za-z0-9_.-]+`, a name used twice, or a greedy one before the end.
    pub(crate) fn parse(path: &str) -> Option<Self> {
        let rest = path.strip_prefix('/')?;
        let parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let segment = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(inner) => match inner.strip_suffix('+') {
                    Some(name) if i + 1 == parts.len() => Segment::Greedy(param_name(name)?),
                    Some(_) => return None,
                    None => Segment::Param(param_name(inner)?),
                },
                None if part.contains(['{', '}']) => return None,
                None => Segment::Literal((*part).to_owned()),
            };
            segments.push(segment);
        }
        let template = Self { segments };
        let mut names: Vec<&str> = template.params().map(|(_, name, _)| name).collect();
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        (names.len() == count).then_some(template)
    }

    /// The parameters: segment index, name, greedy.
    pub(crate) fn params(&self) -> impl Iterator<Item = (usize, &str, bool)> {
        self.segments
            .iter()
            .enumerate()
            .filter_map(|(i, segment)| match segment {
                Segment::Param(name) => Some((i, name.as_str(), false)),
                Segment::Greedy(name) => Some((i, name.as_str(), true)),
                Segment::Literal(_) => None,
            })
    }

    /// The parameter `name`: its segment index and whether it is greedy.
    pub(crate) fn param(&self, name: &str) -> Option<(usize, bool)> {
        self.params()
            .find(|(_, n, _)| *n == name)
            .map(|(i, _, greedy)| (i, greedy))
    }

    /// The path with each parameter replaced: by `values` where it has one,
    /// else by `*`.
    pub(crate) fn fill(&self, values: &[(usize, &str)]) -> String {
        let mut path = String::new();
        for (i, segment) in self.segments.iter().enumerate() {
            path.push('/');
            match segment {
                Segment::Literal(text) => path.push_str(text),
                Segment::Param(_) | Segment::Greedy(_) => {
                    match values.iter().find(|(at, _)| *at == i) {
                        Some((_, value)) => path.push_str(value),
                        None => path.push('*'),
                    }
                }
            }
        }
        if path.is_empty() {
            path.push('/');
        }
        path
    }

    /// The requests API Gateway routes here, as a pattern: `{name}` is one
    /// segment's text, greedy parameters and literal `*` any text.
    pub(crate) fn requests(&self) -> Pattern {
        let mut tokens = Vec::new();
        if self.segments.is_empty() {
            tokens.push(Token::Byte(b'/'));
        }
        for segment in &self.segments {
            tokens.push(Token::Byte(b'/'));
            match segment {
                Segment::Literal(text) => tokens.extend(Pattern::glob(text).tokens),
                Segment::Param(_) => tokens.push(Token::Segment),
                Segment::Greedy(_) => tokens.push(Token::Any),
            }
        }
        Pattern { tokens }
    }
}

/// `path` as the policy's resource glob: each parameter is `*`.
pub(crate) fn resource_glob(path: &str) -> Cow<'_, str> {
    if !path.contains('{') {
        return Cow::Borrowed(path);
    }
    match RouteTemplate::parse(path) {
        Some(template) => Cow::Owned(template.fill(&[])),
        None => Cow::Borrowed(path),
    }
}

fn param_name(name: &str) -> Option<String> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    valid.then(|| name.to_owned())
}

/// One position of a [`Pattern`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Token {
    /// This byte.
    Byte(u8),
    /// Any run of bytes, `/` included (IAM's `*`).
    Any,
    /// Any run of bytes without `/` (a path parameter's value).
    Segment,
}

/// A path pattern over bytes with two wildcards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pattern {
    tokens: Vec<Token>,
}

impl Pattern {
    /// An IAM resource glob (`*` any text; `?` does not occur in route paths).
    pub(crate) fn glob(glob: &str) -> Self {
        let tokens = glob
            .bytes()
            .map(|b| {
                if b == b'*' {
                    Token::Any
                } else {
                    Token::Byte(b)
                }
            })
            .collect();
        Self { tokens }
    }

    /// Whether some path matches both. A search over pairs of positions:
    /// a wildcard may end, or absorb the other side's byte when it accepts
    /// it; two wildcards facing each other need not share text, since both
    /// accept the empty run.
    pub(crate) fn meets(&self, other: &Pattern) -> bool {
        let (a, b) = (&self.tokens, &other.tokens);
        let (la, lb) = (a.len(), b.len());
        let mut seen = vec![false; (la + 1) * (lb + 1)];
        let mut stack = vec![(0usize, 0usize)];
        let absorbs = |wild: Token, byte: u8| match wild {
            Token::Any => true,
            Token::Segment => byte != b'/',
            Token::Byte(_) => false,
        };
        while let Some((i, j)) = stack.pop() {
            let at = i * (lb + 1) + j;
            if seen[at] {
                continue;
            }
            seen[at] = true;
            if i == la && j == lb {
                return true;
            }
            let (x, y) = (a.get(i).copied(), b.get(j).copied());
            match (x, y) {
                (Some(Token::Byte(p)), Some(Token::Byte(q))) if p == q => {
                    stack.push((i + 1, j + 1))
                }
                _ => {}
            }
            if let Some(wild @ (Token::Any | Token::Segment)) = x {
                stack.push((i + 1, j));
                if let Some(Token::Byte(q)) = y {
                    if absorbs(wild, q) {
                        stack.push((i, j + 1));
                    }
                }
            }
            if let Some(wild @ (Token::Any | Token::Segment)) = y {
                stack.push((i, j + 1));
                if let Some(Token::Byte(p)) = x {
                    if absorbs(wild, p) {
                        stack.push((i + 1, j));
                    }
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(path: &str) -> RouteTemplate {
        RouteTemplate::parse(path).unwrap_or_else(|| panic!("{path} parses"))
    }

    #[test]
    fn paths_read_as_segments() {
        assert_eq!(
            template("/tenants/{tenant}/orders/{proxy+}").segments,
            [
                Segment::Literal("tenants".into()),
                Segment::Param("tenant".into()),
                Segment::Literal("orders".into()),
                Segment::Greedy("proxy".into()),
            ]
        );
        assert!(template("/").segments.is_empty());
        assert_eq!(template("/books/*").fill(&[]), "/books/*");
        for bad in [
            "books", "/a{b}", "/{a}x", "/{}", "/{a b}", "/{a+}/b", "/{a}/{a}", "/{a}}", "/x}",
        ] {
            assert_eq!(RouteTemplate::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn parameters_fill_with_values_or_stars() {
        let t = template("/tenants/{tenant}/orders/{id}");
        assert_eq!(t.fill(&[]), "/tenants/*/orders/*");
        assert_eq!(t.fill(&[(1, "acme")]), "/tenants/acme/orders/*");
        assert_eq!(t.param("id"), Some((3, false)));
        assert_eq!(t.param("nope"), None);
        assert_eq!(resource_glob("/shelves/{owner}/books"), "/shelves/*/books");
        assert_eq!(resource_glob("/books/*"), "/books/*");
    }

    #[test]
    fn a_parameter_never_spans_a_slash_but_a_star_does() {
        let list = template("/tenants/{tenant}/orders").requests();
        let item = template("/tenants/{tenant}/orders/{id}").requests();
        // IAM's `*` in the list route's resource matches an item request
        // whose id is "orders"...
        assert!(Pattern::glob("/tenants/*/orders").meets(&item));
        // ...but the item route's resource matches no list request.
        assert!(!Pattern::glob("/tenants/*/orders/*").meets(&list));
        assert!(!Pattern::glob("/tenants/acme/orders").meets(&item));
        assert!(Pattern::glob("/tenants/acme/orders").meets(&list));
        assert!(Pattern::glob("/*").meets(&list));
        assert!(template("/home/{user}/{proxy+}")
            .requests()
            .meets(&Pattern::glob("/home/alice/a/b")));
        assert!(!template("/{a}").requests().meets(&Pattern::glob("/x/y")));
    }
}
