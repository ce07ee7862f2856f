//! Memo of weight-sized function calls during saturation, so a rule does its tensor work once
//! per distinct input, not once per match.
//!
//! egg re-finds a match every iteration, and after a merge a match of the same rule on the
//! same weights comes back under new e-class ids; each one used to permute or scale the
//! weights again (`conv2d_nhwc`'s `permute(value(w), ..)`, `fold_batchnorm_into_conv_bias`'s
//! `scale_axis(w, 0, s)`), which cost a ResNet50 more than a second of saturation and a fresh
//! weight-sized allocation per match. Attribute functions are pure functions of their
//! arguments (facts are read only through e-class arguments), so a call is keyed by the
//! function and its arguments, a large tensor argument by the address of its `Arc`: constants
//! live behind one `Arc` in their e-node and class data, and a memoised result is the same
//! `Arc` again, so a chain of calls over the same weights hits at every step and the node the
//! right-hand side builds is found by pointer equality in the e-graph's hash-cons.
//!
//! The memo exists only inside a [`scope`] (the pipeline opens one around saturation) and is
//! dropped with it; it keeps its argument `Arc`s alive so an address is never reused for
//! another tensor while the memo lives. Calls with an e-class argument (`value(w)`, `dim(x, 0)`)
//! are not memoised: they read facts that grow as the e-graph does, and are cheap.

use super::value::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// Tensors of at least this many elements are keyed by address; smaller ones by content
/// (a freshly computed per-channel scale hits as long as its values are equal).
const LARGE: usize = 256;

/// One argument of a memoised call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// A large tensor, by the address of its `Arc` (kept alive by the entry).
    Large(usize),
    Small(Value),
}

#[derive(Default)]
struct Memo {
    /// Open scopes (a loop region converts inside the outer conversion's scope).
    depth: usize,
    entries: HashMap<(&'static str, Vec<Key>), Entry>,
    hits: u64,
    misses: u64,
}

struct Entry {
    /// The arguments, holding the large tensors' `Arc`s so their addresses stay theirs.
    _args: Vec<Value>,
    result: Value,
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo::default());
}

/// Memoisation is on while this lives (nested scopes share the outer one's memo).
pub struct Scope(());

/// Turns memoisation on for this thread until the returned [`Scope`] is dropped.
pub fn scope() -> Scope {
    MEMO.with(|m| m.borrow_mut().depth += 1);
    Scope(())
}

impl Drop for Scope {
    fn drop(&mut self) {
        MEMO.with(|m| {
            let mut m = m.borrow_mut();
            m.depth -= 1;
            if m.depth == 0 {
                *m = Memo::default();
            }
        });
    }
}

/// Calls answered from the memo and calls computed and stored, since the outermost scope
/// opened (for `convert --stats`).
pub fn counts() -> (u64, u64) {
    MEMO.with(|m| {
        let m = m.borrow();
        (m.hits, m.misses)
    })
}

fn large(v: &Value) -> bool {
    matches!(v, Value::Tensor(t) if t.num_elements() >= LARGE)
}

fn has_class(v: &Value) -> bool {
    match v {
        Value::Class(_) => true,
        Value::List(items) => items.iter().any(has_class),
        _ => false,
    }
}

fn key(v: &Value) -> Key {
    match v {
        Value::Tensor(t) if large(v) => Key::Large(Arc::as_ptr(t) as usize),
        v => Key::Small(v.clone()),
    }
}

/// `f(args)`, from the memo when a scope is open, no argument is an e-class, and an argument
/// or the result is a large tensor (other calls are cheaper than a lookup). Failures are not
/// stored.
pub fn call(name: &'static str, args: &[Value], f: impl FnOnce() -> Result<Value, String>) -> Result<Value, String> {
    let active = MEMO.with(|m| m.borrow().depth > 0);
    if !active || args.iter().any(has_class) {
        return f();
    }
    let k = (name, args.iter().map(key).collect::<Vec<_>>());
    if let Some(v) = MEMO.with(|m| {
        let mut m = m.borrow_mut();
        let hit = m.entries.get(&k).map(|e| e.result.clone());
        if hit.is_some() {
            m.hits += 1;
        }
        hit
    }) {
        return Ok(v);
    }
    let result = f()?;
    if args.iter().any(large) || large(&result) {
        MEMO.with(|m| {
            let mut m = m.borrow_mut();
            m.misses += 1;
            m.entries.insert(k, Entry { _args: args.to_vec(), result: result.clone() });
        });
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::value::Tensor;
    use std::cell::Cell;

    fn big() -> Value {
        Value::Tensor(Arc::new(Tensor::from_f32(vec![LARGE], vec![1.0; LARGE])))
    }

    #[test]
    fn a_call_on_the_same_weights_is_computed_once_and_returns_the_same_arc() {
        let runs = Cell::new(0);
        let w = big();
        let f = || {
            runs.set(runs.get() + 1);
            Ok(big())
        };
        let _s = scope();
        let a = call("permute", &[w.clone(), Value::ints([0])], f).unwrap();
        let b = call("permute", &[w.clone(), Value::ints([0])], f).unwrap();
        assert_eq!(runs.get(), 1);
        let (Value::Tensor(a), Value::Tensor(b)) = (a, b) else { panic!("tensors") };
        assert!(Arc::ptr_eq(&a, &b));
        // Another function, other small arguments, or equal content behind another Arc: computed.
        call("scale_axis", &[w.clone(), Value::ints([0])], f).unwrap();
        call("permute", &[w.clone(), Value::ints([1])], f).unwrap();
        call("permute", &[big(), Value::ints([0])], f).unwrap();
        assert_eq!(runs.get(), 4);
        assert_eq!(counts(), (1, 4));
    }

    #[test]
    fn nothing_is_memoised_outside_a_scope_or_with_a_class_argument() {
        let runs = Cell::new(0);
        let f = || {
            runs.set(runs.get() + 1);
            Ok(big())
        };
        let w = big();
        call("permute", &[w.clone()], f).unwrap();
        call("permute", &[w.clone()], f).unwrap();
        let _s = scope();
        call("value", &[Value::Class(egg::Id::from(0usize)), w.clone()], f).unwrap();
        call("value", &[Value::Class(egg::Id::from(0usize)), w.clone()], f).unwrap();
        assert_eq!(runs.get(), 4);
    }

    #[test]
    fn the_memo_is_dropped_with_its_scope() {
        let w = big();
        {
            let _s = scope();
            call("permute", &[w.clone()], || Ok(big())).unwrap();
            assert_eq!(counts().1, 1);
        }
        assert_eq!(counts(), (0, 0));
    }
}
