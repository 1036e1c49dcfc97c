//! Walking SOAP faults: the `faultCause` chain, and fault type tests that honour the fault
//! hierarchy (`NotAuthenticated` is a `NoPermission`, which is a `SecurityError`...).
//!
//! ```no_run
//! # async fn f(err: vim_sdk::Error) {
//! use vim_sdk::types::InvalidLogin;
//! if err.is::<InvalidLogin>() { /* wrong credentials */ }
//! if let Some(f) = err.find_fault("FileFault") { println!("{}", f.type_name()); }
//! # }
//! ```

use crate::error::{Error, Fault};
use crate::types::AnyMethodFault;
use crate::xml::DataObject;

/// Whether data object type `ty` is `ancestor` or derives from it, by the model's type table
/// (an unknown `ty` is only itself).
pub fn is_a(ty: &str, ancestor: &str) -> bool {
    let mut cur = Some(ty);
    // The hierarchy is shallow; the bound guards against a malformed table.
    for _ in 0..32 {
        let Some(name) = cur else { return false };
        if name == ancestor {
            return true;
        }
        // Not `TYPES`: a table of `&str`s costs a load-time relocation per string.
        cur = crate::meta::type_base(name);
    }
    false
}

/// Iterator over a fault and its `faultCause`s, outermost first.
#[derive(Debug, Clone)]
pub struct FaultChain<'a> {
    next: Option<&'a AnyMethodFault>,
    left: usize,
}

impl<'a> Iterator for FaultChain<'a> {
    type Item = &'a AnyMethodFault;

    fn next(&mut self) -> Option<&'a AnyMethodFault> {
        let cur = self.next.take()?;
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        self.next = cur.base().fault_cause.as_ref().map(|c| &c.fault);
        Some(cur)
    }
}

/// The chain starting at `fault` (bounded, in case a server nests absurdly deep).
pub fn chain(fault: Option<&AnyMethodFault>) -> FaultChain<'_> {
    FaultChain {
        next: fault,
        left: 64,
    }
}

impl Fault {
    /// The typed fault and its `faultCause`s, outermost first (empty without detail).
    pub fn chain(&self) -> FaultChain<'_> {
        chain(self.detail.as_ref())
    }

    /// The first fault in the chain of type `name` or of a type derived from it.
    pub fn find(&self, name: &str) -> Option<&AnyMethodFault> {
        self.chain().find(|f| is_a(f.type_name(), name))
    }
}

impl Error {
    /// The typed fault and its `faultCause`s, outermost first; empty if this is not a fault.
    pub fn fault_chain(&self) -> FaultChain<'_> {
        chain(self.fault().and_then(|f| f.detail.as_ref()))
    }

    /// The first fault in the chain whose type is `name` (a wire name such as `"InvalidLogin"`)
    /// or derives from it (`"FileFault"` finds a `FileNotFound`).
    pub fn find_fault(&self, name: &str) -> Option<&AnyMethodFault> {
        self.fault_chain().find(|f| is_a(f.type_name(), name))
    }

    /// The first fault in the chain of type `T` or of a type derived from it.
    pub fn find<T: DataObject>(&self) -> Option<&AnyMethodFault> {
        self.find_fault(T::TYPE_NAME)
    }

    /// Whether the chain holds a fault of type `T` or of a type derived from it.
    pub fn is<T: DataObject>(&self) -> bool {
        self.find::<T>().is_some()
    }

    /// Whether the server refused the call because the session is missing, expired or was
    /// terminated (`NotAuthenticated`).
    pub fn is_not_authenticated(&self) -> bool {
        self.find_fault("NotAuthenticated").is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::types::{
        FileNotFound, InvalidLogin, LocalizedMethodFault, NoPermission, NotAuthenticated,
        SystemError,
    };

    fn error_with(detail: AnyMethodFault) -> Error {
        Error::new(
            "PowerOnVM_Task",
            Some("VirtualMachine:vm-1".into()),
            ErrorKind::Fault(Box::new(Fault {
                code: "ServerFaultCode".into(),
                message: "m".into(),
                detail: Some(detail),
            })),
        )
    }

    #[test]
    fn hierarchy() {
        assert!(is_a("NotAuthenticated", "NoPermission"));
        assert!(is_a("NotAuthenticated", "MethodFault"));
        assert!(is_a("FileNotFound", "FileFault"));
        assert!(!is_a("FileNotFound", "InvalidLogin"));
        assert!(is_a("FutureFault", "FutureFault"));
        assert!(!is_a("FutureFault", "MethodFault"));
    }

    #[test]
    #[allow(clippy::field_reassign_with_default)]
    fn walks_the_cause_chain() {
        let mut outer = SystemError::default();
        outer.fault_cause = Some(LocalizedMethodFault {
            fault: AnyMethodFault::FileNotFound(Box::default()),
            localized_message: None,
        });
        let err = error_with(AnyMethodFault::SystemError(Box::new(outer)));
        let names: Vec<_> = err.fault_chain().map(|f| f.type_name()).collect();
        assert_eq!(names, ["SystemError", "FileNotFound"]);
        assert!(err.is::<FileNotFound>());
        assert_eq!(
            err.find_fault("FileFault").map(|f| f.type_name()),
            Some("FileNotFound")
        );
        assert!(!err.is::<InvalidLogin>());
        assert!(!err.is_not_authenticated());
        assert!(err
            .to_string()
            .contains("PowerOnVM_Task on VirtualMachine:vm-1"));

        let err = error_with(AnyMethodFault::NotAuthenticated(Box::default()));
        assert!(err.is_not_authenticated());
        assert!(err.is::<NoPermission>());
        assert!(err.is::<NotAuthenticated>());
    }

    #[test]
    fn type_bases_hold_the_hierarchy_of_types() {
        let from_types: Vec<(&str, &str)> = crate::meta::TYPES
            .iter()
            .filter_map(|t| t.base.map(|b| (t.name, b)))
            .collect();
        assert!(from_types.len() > 2000, "{}", from_types.len());
        let bases: Vec<(&str, &str)> = crate::meta::type_bases().collect();
        assert_eq!(bases, from_types);
        // The relocation-free lookup `is_a` reads says the same, and nothing of its own.
        for t in crate::meta::TYPES {
            assert_eq!(crate::meta::type_base(t.name), t.base, "{}", t.name);
        }
        assert_eq!(crate::meta::type_base("NotAType"), None);
        assert!(is_a("FileNotFound", "MethodFault"));
        assert!(is_a("InvalidLogin", "VimFault"));
        assert!(!is_a("MethodFault", "InvalidLogin"));
        assert!(!is_a("NotAType", "MethodFault"));
    }
}
