//! Which data object fields hold secrets: the generated `Debug` prints their values as
//! `<redacted>` (keeping `None`/`Some` and whether an array is empty), and `meta` flags them
//! (`FieldInfo::secret`).
//!
//! Decided from the model, by field name and type, so that fields of newer releases that
//! follow VMware's naming are covered without a list to keep up:
//!
//! - a text field (`xsd:string` or `xsd:base64Binary`) whose name contains `password`,
//!   `passwd`, `secret` or `passphrase` (`NamePasswordAuthentication.password`,
//!   `HostConnectSpec.vimAccountPassword`, `HostConfigSpec.datastorePrincipalPasswd`,
//!   `HostInternetScsiHbaAuthenticationProperties.chapSecret`), except a name ending in `Path`
//!   (`SessionManagerLocalTicket.passwordFilePath` names a file, not its content);
//! - a text field named `ticket` (`VirtualMachineTicket`, `VirtualMachineMksTicket`,
//!   `TicketedSessionAuthentication`), `sessionId` (`HostServiceTicket`, and the session
//!   events: the key of a session, which identifies it to `TerminateSession`), `token` or
//!   ending in `Token` (SAML and SSPI tokens, `HostGatewaySpec.trustVerificationToken`), but
//!   not the paging cursors: `RetrieveResult.token`, `nextToken`, and the `token` parameter
//!   of `ContinueRetrievePropertiesEx`, `CancelRetrievePropertiesEx` and `FetchAuditRecords`
//!   (a cursor names a position in a result held by the server for one session; it grants
//!   nothing without that session's cookie, which is secret, and the reply that hands it out,
//!   `RetrieveResult.token`, already shows it);
//! - `keyData` (`CryptoKeyPlain`: a plain encryption key) and `community` (an SNMP community
//!   string is its password);
//! - by type: `UserSession.key` (the session key), `SessionManagerGenericServiceTicket.id`
//!   (the ticket itself), and `value` of `PasswordField` and `CustomizationPassword` (the
//!   latter also when `plainText` is false: an encrypted password is still the password).
//!
//! Not secret, on purpose: thumbprints and certificates (public, and what an operator needs
//! to see to pin a host), `CustomizationSpec.encryptionKey` (a public key), the numeric
//! `GuestAuthenticationChallenge.sessionID`, and keys that are identifiers (`key`,
//! `portKey`, `extensionKey`...).

use crate::model::{Field, Primitive, TypeRef};

/// Fields secret by their type's name, whatever their name says.
const BY_TYPE: &[(&str, &str)] = &[
    ("UserSession", "key"),
    ("SessionManagerGenericServiceTicket", "id"),
    ("PasswordField", "value"),
    ("CustomizationPassword", "value"),
];

/// Names that would match the rules below but are not secrets: paging cursors (a field of a
/// type, or a parameter of an operation: `meta` asks with the operation's name).
const NOT_SECRET: &[(&str, &str)] = &[
    ("RetrieveResult", "token"),
    ("ContinueRetrievePropertiesEx", "token"),
    ("CancelRetrievePropertiesEx", "token"),
    ("FetchAuditRecords", "token"),
];

/// Whether field `f` of data type `type_name` holds a secret.
pub fn is_secret(type_name: &str, f: &Field) -> bool {
    let name = f.name.as_str();
    if BY_TYPE.contains(&(type_name, name)) {
        return true;
    }
    if NOT_SECRET.contains(&(type_name, name)) {
        return false;
    }
    let text = matches!(
        f.ty,
        TypeRef::Primitive(Primitive::String | Primitive::Base64Binary)
    );
    if !text {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    let secret_word = ["password", "passwd", "secret", "passphrase"]
        .iter()
        .any(|w| lower.contains(w))
        && !name.ends_with("Path");
    let credential_name = matches!(
        name,
        "ticket" | "sessionId" | "token" | "keyData" | "community"
    ) || (name.ends_with("Token") && name != "nextToken");
    secret_word || credential_name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Occurs;

    fn field(name: &str, ty: TypeRef) -> Field {
        Field {
            name: name.into(),
            ty,
            occurs: Occurs::ONE,
            mo_type: None,
            since: "4.1".into(),
        }
    }

    fn string(name: &str) -> Field {
        field(name, TypeRef::Primitive(Primitive::String))
    }

    #[test]
    fn secrets_by_name_type_and_exception() {
        for (t, f) in [
            ("NamePasswordAuthentication", "password"),
            ("HostConnectSpec", "vimAccountPassword"),
            ("HostConfigSpec", "datastorePrincipalPasswd"),
            (
                "HostInternetScsiHbaAuthenticationProperties",
                "mutualChapSecret",
            ),
            ("VirtualMachineTicket", "ticket"),
            ("HostServiceTicket", "sessionId"),
            ("SAMLTokenAuthentication", "token"),
            ("SSPIAuthentication", "sspiToken"),
            ("CryptoKeyPlain", "keyData"),
            ("HostSnmpDestination", "community"),
            ("UserSession", "key"),
            ("SessionManagerGenericServiceTicket", "id"),
            ("CustomizationPassword", "value"),
        ] {
            assert!(is_secret(t, &string(f)), "{t}.{f}");
        }
        for (t, f) in [
            ("SessionManagerLocalTicket", "passwordFilePath"),
            ("RetrieveResult", "token"),
            ("ContinueRetrievePropertiesEx", "token"),
            ("CancelRetrievePropertiesEx", "token"),
            ("FetchAuditRecords", "token"),
            ("DiagnosticManagerAuditRecordResult", "nextToken"),
            ("HostServiceTicket", "sslThumbprint"),
            ("UserSession", "userName"),
            ("Extension", "key"),
            ("DvsPortConnectedEvent", "portKey"),
            ("CustomizationPassword", "plainText"),
        ] {
            assert!(!is_secret(t, &string(f)), "{t}.{f}");
        }
        // A password-named field that is not text (a flag, a nested object) is not redacted
        // itself; a nested object redacts its own secret fields.
        let flag = field(
            "passwordNeverExpires",
            TypeRef::Primitive(Primitive::Boolean),
        );
        assert!(!is_secret("HostAccountSpec", &flag));
        let nested = field("password", TypeRef::Named("CustomizationPassword".into()));
        assert!(!is_secret("CustomizationGuiUnattended", &nested));
    }
}
