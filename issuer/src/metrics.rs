//! The issuer's CloudWatch metrics (`Service=issuer`) and the rotation
//! Lambda's (`Service=issuer-rotation`). Dimensions are outcomes, grants,
//! error kinds and step names: never a username, client id or `kid`.

use std::sync::Arc;

use telemetry::{DiscardSink, Metric, MetricsSink, Record, NONE};

use crate::accounts::AccountKind;
use crate::error::{LoginError, ServiceError};
use crate::revocations::Revocation;
use crate::rotation::{RotationError, Step};
use crate::tokens::IssuedToken;

const SERVICE: &str = "issuer";
const ROTATION_SERVICE: &str = "issuer-rotation";

/// Which key change a result belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyChange {
    /// `POST /admin/keys/rotate`.
    Rotation,
    /// `POST /admin/keys/{kid}/revoke`.
    Revocation,
}

/// The OAuth grant a login used (JSON logins are password grants).
pub fn grant(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::User => "password",
        AccountKind::Client => "client_credentials",
    }
}

/// The error kind of a failed operation, as a `Reason`.
fn error_kind(error: &ServiceError) -> &'static str {
    match error {
        ServiceError::Conflict => NONE,
        ServiceError::UnknownKid(_) => "unknown_kid",
        ServiceError::Store(_) => "key_store",
        ServiceError::Keys(_) | ServiceError::KeyTask(_) => "keyset",
        ServiceError::Accounts(_) => "account_store",
        ServiceError::RotationTooSoon { .. } => "too_soon",
        ServiceError::Status(_) => "status_store",
        ServiceError::NoTokenStatus => "no_token_status",
    }
}

/// Records the issuer's metrics to a sink (discarded by default).
#[derive(Clone)]
pub struct IssuerMetrics {
    sink: Arc<dyn MetricsSink>,
}

impl Default for IssuerMetrics {
    fn default() -> Self {
        Self::new(Arc::new(DiscardSink))
    }
}

impl std::fmt::Debug for IssuerMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IssuerMetrics")
    }
}

impl IssuerMetrics {
    /// Records into `sink`.
    pub fn new(sink: Arc<dyn MetricsSink>) -> Self {
        Self { sink }
    }

    /// One login: `Logins` (ok, refused, throttled or failed) by grant, and
    /// `TokensIssued` when it succeeded.
    pub fn login(&self, kind: AccountKind, result: &Result<IssuedToken, LoginError>) {
        let reason = grant(kind);
        let decision = match result {
            Ok(_) => {
                let metrics = [
                    Metric::count("Logins", 1.0),
                    Metric::count("TokensIssued", 1.0),
                ];
                self.sink
                    .emit(&Record::new(SERVICE, "ok", reason, &metrics));
                return;
            }
            Err(LoginError::DpopProof(dpop::ProofError::ReplayStore(_))) => "failed",
            Err(
                LoginError::InvalidCredentials
                | LoginError::InvalidScope
                | LoginError::DpopProof(_),
            ) => "refused",
            // Busy: the password-hashing pool is full, a load-shedding throttle.
            Err(LoginError::Throttled(_) | LoginError::Busy) => "throttled",
            Err(LoginError::Service(_)) => "failed",
        };
        self.sink.emit(&Record::new(
            SERVICE,
            decision,
            reason,
            &[Metric::count("Logins", 1.0)],
        ));
    }

    /// One rotation or revocation: ok, conflict (lost a race) or failed.
    pub fn key_change<T>(&self, change: KeyChange, result: &Result<T, ServiceError>) {
        let name = match change {
            KeyChange::Rotation => "KeyRotations",
            KeyChange::Revocation => "KeyRevocations",
        };
        let (decision, reason) = match result {
            Ok(_) => ("ok", NONE),
            Err(ServiceError::Conflict) => ("conflict", NONE),
            // Refused as too close to the last rotation: not a failure.
            Err(error @ ServiceError::RotationTooSoon { .. }) => ("conflict", error_kind(error)),
            Err(error) => ("failed", error_kind(error)),
        };
        self.sink.emit(&Record::new(
            SERVICE,
            decision,
            reason,
            &[Metric::count(name, 1.0)],
        ));
    }

    /// One token revocation request, by how it named its tokens (`token`:
    /// presented, RFC 7009 or the CLI; `jti`; `subject`): `TokenRevocations`
    /// (decision `ok`, `unchanged` or `failed`), and `TokensRevoked`, how many
    /// tokens it revoked.
    pub fn token_revocation(&self, how: &'static str, result: &Result<Revocation, ServiceError>) {
        let (decision, revoked) = match result {
            Ok(Revocation::Revoked(tokens)) => ("ok", tokens.len()),
            Ok(Revocation::Unchanged) => ("unchanged", 0),
            Err(_) => ("failed", 0),
        };
        let metrics = [
            Metric::count("TokenRevocations", 1.0),
            Metric::count("TokensRevoked", revoked as f64),
        ];
        self.sink
            .emit(&Record::new(SERVICE, decision, how, &metrics));
    }

    /// A key store read (`load`) or write (`save`) that failed, conflicts
    /// aside.
    pub fn key_store_error(&self, operation: &'static str) {
        self.sink.emit(&Record::new(
            SERVICE,
            "failed",
            operation,
            &[Metric::count("KeyStoreErrors", 1.0)],
        ));
    }
}

/// Step names as Secrets Manager sends them.
fn step_name(step: Step) -> &'static str {
    match step {
        Step::CreateSecret => "createSecret",
        Step::SetSecret => "setSecret",
        Step::TestSecret => "testSecret",
        Step::FinishSecret => "finishSecret",
    }
}

/// Records each step of the rotation Lambda.
#[derive(Clone)]
pub struct RotationMetrics {
    sink: Arc<dyn MetricsSink>,
}

impl RotationMetrics {
    /// Records into `sink`.
    pub fn new(sink: Arc<dyn MetricsSink>) -> Self {
        Self { sink }
    }

    /// One step (`None`: a step name that is not one of the four).
    pub fn step(&self, step: Option<Step>, result: &Result<(), RotationError>) {
        let decision = if result.is_ok() { "ok" } else { "failed" };
        let reason = step.map_or("unknown_step", step_name);
        self.sink.emit(&Record::new(
            ROTATION_SERVICE,
            decision,
            reason,
            &[Metric::count("RotationSteps", 1.0)],
        ));
    }
}
