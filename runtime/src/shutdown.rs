//! The shutdown trigger every `run` takes.

use tokio::sync::watch;

/// A cloneable shutdown signal. `trigger` on any clone stops every holder.
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: watch::Sender<bool>,
    rx: watch::Receiver<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A new, untriggered signal.
    pub fn new() -> Self {
        let (tx, rx) = watch::channel(false);
        Self { tx, rx }
    }

    /// Asks every holder to stop.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// True once triggered.
    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow()
    }

    /// A receiver that sees `true` once triggered, for code that takes a plain watch channel.
    pub fn receiver(&self) -> watch::Receiver<bool> {
        self.rx.clone()
    }

    /// Completes once triggered.
    pub async fn triggered(&self) {
        let mut rx = self.rx.clone();
        // An error means every sender is gone; `self` holds one, so it cannot happen here.
        let _ = rx.wait_for(|stop| *stop).await;
    }
}
