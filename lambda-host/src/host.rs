//! [`LambdaHost`]: a function's instances, scheduled as the Lambda service
//! schedules them: one event at a time per instance, idle instances kept
//! warm, another started when all are busy (up to a bound).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::error::LambdaError;
use crate::function::FunctionSpec;
use crate::instance::{random_request_id, Instance};

/// How the host schedules instances.
#[derive(Clone, Copy, Debug)]
pub struct HostSettings {
    /// Concurrent instances at most; a request finding all busy waits for one
    /// (up to `timeout`).
    pub max_instances: usize,
    /// Every invocation gets a new instance, stopped after it answers: each
    /// request is a true cold start.
    pub fresh_instances: bool,
    /// Bound on one invocation (init included on a cold start); past it the
    /// instance is stopped, as Lambda does.
    pub timeout: Duration,
}

impl Default for HostSettings {
    fn default() -> Self {
        Self {
            max_instances: 8,
            fresh_instances: false,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Counters, for tests and logs.
#[derive(Debug, Default)]
pub struct HostCounters {
    /// Processes started (cold starts).
    pub instances_started: AtomicU64,
    /// Invocations handed to an instance.
    pub invocations: AtomicU64,
}

/// A function and its instances.
pub struct LambdaHost {
    spec: FunctionSpec,
    settings: HostSettings,
    idle: Mutex<Vec<Instance>>,
    slots: Arc<Semaphore>,
    /// Bumped by [`LambdaHost::recycle`]: instances started before it are
    /// stopped instead of going back to idle (one busy during a revocation
    /// must not serve again with the old JWKS).
    generation: AtomicU64,
    /// What the host has done so far.
    pub counters: HostCounters,
}

impl LambdaHost {
    /// A host for `spec`; no instance starts before the first invocation.
    pub fn new(spec: FunctionSpec, settings: HostSettings) -> Self {
        let max = settings.max_instances.max(1);
        Self {
            spec,
            settings,
            idle: Mutex::new(Vec::new()),
            slots: Arc::new(Semaphore::new(max)),
            generation: AtomicU64::new(0),
            counters: HostCounters::default(),
        }
    }

    /// Runs one invocation on an idle instance, or a new one.
    pub async fn invoke(&self, event: &Value) -> Result<Value, LambdaError> {
        let timeout = self.settings.timeout;
        let Ok(Ok(_slot)) =
            tokio::time::timeout(timeout, Arc::clone(&self.slots).acquire_owned()).await
        else {
            return Err(LambdaError::Timeout(timeout));
        };
        let event =
            Bytes::from(serde_json::to_vec(event).map_err(|_| LambdaError::MalformedEvent)?);
        let generation = self.generation.load(Ordering::Acquire);
        let instance = match self.take_idle() {
            Some(instance) => instance,
            None => self.start_instance().await?,
        };
        let request_id = random_request_id();
        self.counters.invocations.fetch_add(1, Ordering::Relaxed);
        let result = instance.invoke(request_id, event, timeout).await;
        let reusable = !self.settings.fresh_instances
            && instance.is_alive()
            && !matches!(result, Err(LambdaError::Timeout(_)));
        match self.idle.lock() {
            // Checked under the lock that `recycle` takes, so an instance
            // cannot slip back in after a recycle.
            Ok(mut idle) if reusable && self.generation.load(Ordering::Acquire) == generation => {
                idle.push(instance);
            }
            _ => instance.stop(),
        }
        result
    }

    /// Stops every idle instance: the next invocations start fresh ones (with
    /// a fresh JWKS, say, after a key was revoked).
    pub fn recycle(&self) {
        for instance in self.retire_idle() {
            instance.stop();
        }
    }

    /// Stops every idle instance and waits until each process has exited
    /// (it may hold a file another process is about to open).
    pub async fn shutdown(&self) {
        for instance in self.retire_idle() {
            instance.stop();
            instance.stopped().await;
        }
    }

    /// Takes the idle instances out, and makes the busy ones stop instead of
    /// going back to idle.
    fn retire_idle(&self) -> Vec<Instance> {
        self.idle
            .lock()
            .map(|mut idle| {
                self.generation.fetch_add(1, Ordering::AcqRel);
                std::mem::take(&mut *idle)
            })
            .unwrap_or_default()
    }

    /// The process ids of the idle instances (a test measuring their memory).
    pub fn idle_pids(&self) -> Vec<u32> {
        self.idle
            .lock()
            .map(|idle| idle.iter().filter_map(Instance::pid).collect())
            .unwrap_or_default()
    }

    fn take_idle(&self) -> Option<Instance> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(instance) = idle.pop() {
            if instance.is_alive() {
                return Some(instance);
            }
        }
        None
    }

    async fn start_instance(&self) -> Result<Instance, LambdaError> {
        let number = self
            .counters
            .instances_started
            .fetch_add(1, Ordering::Relaxed)
            + 1;
        Instance::start(&self.spec, number, self.settings.timeout).await
    }
}

impl Drop for LambdaHost {
    fn drop(&mut self) {
        self.recycle();
    }
}
