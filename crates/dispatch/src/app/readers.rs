//! A small pool of read-only connections for queries, so that reads never wait for the
//! writer (WAL readers see the last committed state) and never block the async runtime.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use sortfleet_ledger::{LedgerError, Store};

use super::error::{AppError, AppResult};

const KEEP: usize = 8;

pub(crate) struct Readers {
    path: PathBuf,
    pool: Mutex<Vec<Store>>,
}

impl Readers {
    pub(crate) fn new(path: PathBuf) -> Arc<Readers> {
        Arc::new(Readers {
            path,
            pool: Mutex::new(Vec::new()),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&Store) -> Result<T, LedgerError>) -> AppResult<T> {
        let conn = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match conn {
            Some(c) => c,
            None => Store::open_read_only(&self.path)?,
        };
        let out = f(&conn);
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < KEEP {
            pool.push(conn);
        }
        out.map_err(Into::into)
    }

    /// Runs a query on a blocking thread with a pooled read-only connection.
    pub(crate) async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Store) -> Result<T, LedgerError> + Send + 'static,
    ) -> AppResult<T> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.with(f))
            .await
            .map_err(|e| AppError::Internal(format!("query task: {e}")))?
    }
}
