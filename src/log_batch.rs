//! `serve`'s log output: lines gather in memory and reach stderr in batches,
//! every [`FLUSH_INTERVAL`] or once [`FLUSH_BYTES`] are waiting, as nginx's
//! (`buffer=`, `flush=`) and Envoy's access logs do. Under load one `write`
//! per request line was about a twentieth of `serve`'s CPU
//! (docs/load-tests.md).
//!
//! A line is at most [`FLUSH_INTERVAL`] late. The [`FlushOnDrop`] guard
//! writes what is left when `main` returns, so a clean shutdown (Ctrl-C,
//! SIGTERM, an error) loses nothing; a killed process loses at most that
//! interval's lines.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long a line may wait in memory.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(100);

/// Waiting bytes that make the writing thread flush at once: memory stays
/// bounded, and a stderr that blocks slows the stack as an unbuffered one
/// would instead of growing the buffer.
pub const FLUSH_BYTES: usize = 64 * 1024;

/// A [`MakeWriter`] for `tracing_subscriber::fmt` that batches stderr.
#[derive(Clone, Debug)]
pub struct BatchedStderr {
    waiting: Arc<Mutex<Vec<u8>>>,
    /// Where a batch goes: stderr (a test's own sink in unit tests).
    write_batch: fn(&[u8]),
}

impl Default for BatchedStderr {
    fn default() -> Self {
        Self {
            waiting: Arc::default(),
            write_batch: to_stderr,
        }
    }
}

/// Nowhere to report a failed log write: the lines are dropped.
fn to_stderr(batch: &[u8]) {
    let mut err = io::stderr().lock();
    let _ = err.write_all(batch).and_then(|()| err.flush());
}

impl BatchedStderr {
    /// A batched stderr, flushed every [`FLUSH_INTERVAL`] by a thread of its
    /// own, and once more when the returned guard drops.
    pub fn start() -> (Self, FlushOnDrop) {
        let batched = Self::default();
        let flusher = batched.clone();
        // A plain thread, not a task: it flushes whatever the runtime does.
        let spawned = std::thread::Builder::new()
            .name("log-flush".to_owned())
            .spawn(move || loop {
                std::thread::sleep(FLUSH_INTERVAL);
                flusher.write_waiting();
            });
        if let Err(error) = spawned {
            // Lines still arrive, at FLUSH_BYTES and at exit.
            eprintln!("log flush thread not started: {error}");
        }
        (batched.clone(), FlushOnDrop(batched))
    }

    /// Writes every waiting byte. Taken from the buffer first, so other
    /// threads never wait on the write itself.
    fn write_waiting(&self) {
        let batch = std::mem::take(&mut *self.lock());
        if !batch.is_empty() {
            (self.write_batch)(&batch);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        // A panic while holding the lock leaves whole lines: still usable.
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Write for BatchedStderr {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let full = {
            let mut waiting = self.lock();
            waiting.extend_from_slice(line);
            waiting.len() >= FLUSH_BYTES
        };
        if full {
            self.write_waiting();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // The fmt layer flushes nothing itself; batches go on their schedule.
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedStderr {
    type Writer = BatchedStderr;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Flushes the last lines when dropped (at the end of `main`).
#[must_use = "dropping the guard at once flushes too early"]
#[derive(Debug)]
pub struct FlushOnDrop(BatchedStderr);

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        self.0.write_waiting();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    static WRITTEN: Mutex<Vec<u8>> = Mutex::new(Vec::new());
    static FLUSHED_BYTES: AtomicUsize = AtomicUsize::new(0);

    fn batched(write_batch: fn(&[u8])) -> BatchedStderr {
        BatchedStderr {
            write_batch,
            ..BatchedStderr::default()
        }
    }

    #[test]
    fn lines_wait_until_flushed_then_arrive_whole_and_in_order() {
        let mut batched = batched(|batch| WRITTEN.lock().unwrap().extend_from_slice(batch));
        batched.write_all(b"first\n").unwrap();
        batched.make_writer().write_all(b"second\n").unwrap();
        assert!(WRITTEN.lock().unwrap().is_empty(), "written before a flush");
        batched.write_waiting();
        batched.write_waiting();
        assert_eq!(*WRITTEN.lock().unwrap(), b"first\nsecond\n");
    }

    #[test]
    fn the_writing_thread_flushes_a_full_batch_itself() {
        let mut batched = batched(|batch| {
            FLUSHED_BYTES.fetch_add(batch.len(), Ordering::SeqCst);
        });
        let line = vec![b'x'; 1000];
        let lines = FLUSH_BYTES / line.len() + 5;
        for _ in 0..lines {
            batched.write_all(&line).unwrap();
        }
        let waiting = batched.lock().len();
        assert!(waiting < FLUSH_BYTES);
        assert_eq!(
            FLUSHED_BYTES.load(Ordering::SeqCst) + waiting,
            lines * line.len()
        );
    }
}
