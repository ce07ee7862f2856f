//! How deep region conversions nest (a loop or branch inside a loop or branch, each converted
//! by a nested `convert`). A function library can make a region hold itself (a cond whose
//! branch holds the same cond): the flattener only inlines the function where it is called, so
//! that recursion would only show as ever deeper region conversions. A depth limit turns it
//! into an error naming the region instead of a stack overflow.

use std::cell::Cell;

/// Deeper nesting than any model's (TF graphs nest control flow a few levels).
pub const MAX_DEPTH: usize = 32;

thread_local! {
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// One level of region conversion; the level ends when it is dropped.
pub struct Level(());

impl Drop for Level {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Enters one more level, or says that [`MAX_DEPTH`] levels are already open.
pub fn enter() -> Result<Level, String> {
    DEPTH.with(|d| {
        if d.get() >= MAX_DEPTH {
            return Err(format!(
                "control flow nested more than {MAX_DEPTH} deep (a function that holds a cond or loop calling itself?)"
            ));
        }
        d.set(d.get() + 1);
        Ok(Level(()))
    })
}
