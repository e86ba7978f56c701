//! The lines of a `tollgate explain` report: each check with its verdict,
//! collected in the authorizer's order, a failure skipping what depends on
//! it. Shared by the token's checks ([`crate::explain`]) and the sender's
//! (`explain_sender`).

use std::fmt;

use crate::error::VerifyError;

/// One check's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The check passed.
    Pass,
    /// The check failed; `reason` says why.
    Fail,
    /// Not run: an earlier check it depends on failed.
    Skipped,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Skipped => "skip",
        })
    }
}

/// One line of the explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// What was checked (`signature`, `exp`, …).
    pub name: &'static str,
    /// Its verdict.
    pub verdict: Verdict,
    /// What was seen, in words.
    pub detail: String,
    /// The refusal reason (as logged and in metrics) when it failed.
    pub reason: Option<&'static str>,
}

/// Collects checks; a failure makes the dependent checks `Skipped`.
#[derive(Default)]
pub(crate) struct Report {
    pub(crate) checks: Vec<Check>,
    /// The token's `status.status_list` (URI, index), when it has one.
    pub(crate) status: Option<(String, u64)>,
}

impl Report {
    pub(crate) fn record(
        &mut self,
        name: &'static str,
        result: Result<String, (VerifyError, String)>,
    ) -> bool {
        self.record_reason(
            name,
            result.map_err(|(error, detail)| (error.reason(), format!("{detail} ({error})"))),
        )
    }

    /// A check whose refusal is any reason (a sender check's).
    pub(crate) fn record_reason(
        &mut self,
        name: &'static str,
        result: Result<String, (&'static str, String)>,
    ) -> bool {
        let check = match result {
            Ok(detail) => Check {
                name,
                verdict: Verdict::Pass,
                detail,
                reason: None,
            },
            Err((reason, detail)) => Check {
                name,
                verdict: Verdict::Fail,
                detail,
                reason: Some(reason),
            },
        };
        let passed = check.verdict == Verdict::Pass;
        self.checks.push(check);
        passed
    }

    pub(crate) fn skip(&mut self, names: &[&'static str]) {
        self.skip_saying(names, "not checked: an earlier check failed");
    }

    pub(crate) fn skip_saying(&mut self, names: &[&'static str], why: &str) {
        for name in names {
            self.checks.push(Check {
                name,
                verdict: Verdict::Skipped,
                detail: why.to_owned(),
                reason: None,
            });
        }
    }
}
