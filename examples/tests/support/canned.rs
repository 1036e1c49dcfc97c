//! A loopback fixture for what vcsim 0.24 lacks (`DiagnosticManager` calls,
//! `CreateScreenshot_Task`): vim-sdk's fault proxy in front of the simulator answers chosen
//! calls with SOAP replies of the shape ESX and vCenter send; every other call (login, the
//! inventory, datastore files) reaches the simulator.

use vim_sdk::testing::fault_proxy::{CannedReply, Fault, FaultProxy};

use super::sim;

/// The proxy with the runtime that serves it (both dropped together at the test's end).
pub struct Canned {
    /// The proxy: point `GOVC_URL` at [`FaultProxy::url`].
    pub proxy: FaultProxy,
    _runtime: tokio::runtime::Runtime,
}

impl Canned {
    /// A proxy in front of the test binary's simulator, served on threads of its own (a
    /// test's runs of an example block the test's thread).
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let proxy = runtime
            .block_on(FaultProxy::start(sim().addr()))
            .expect("start the proxy");
        Canned {
            proxy,
            _runtime: runtime,
        }
    }

    /// Answers the next call of `op` whose request holds `text` with `body` (the element
    /// inside the SOAP `Body`) instead of the simulator.
    pub fn answer(&self, op: &str, text: &str, body: &str) {
        self.proxy
            .inject_when(op, text, Fault::Reply(CannedReply::xml(envelope(body))));
    }
}

/// A SOAP reply envelope around `body`.
pub fn envelope(body: &str) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope "#,
            r#"xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" "#,
            r#"xmlns:xsd="http://www.w3.org/2001/XMLSchema" "#,
            r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
            "<soapenv:Body>{}</soapenv:Body></soapenv:Envelope>"
        ),
        body
    )
}

/// A `RetrievePropertiesEx` reply with the `info` of task `task` ended in success with the
/// string `result` (as a `*_Task` returning `xsd:string` ends).
pub fn task_succeeded(task: &str, description: &str, entity: &str, result: &str) -> String {
    format!(
        concat!(
            r#"<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects>"#,
            r#"<obj type="Task">{task}</obj><propSet><name>info</name><val xsi:type="TaskInfo">"#,
            r#"<key>{task}</key><task type="Task">{task}</task>"#,
            "<descriptionId>{description}</descriptionId>",
            r#"<entity type="VirtualMachine">{entity}</entity><state>success</state>"#,
            "<cancelled>false</cancelled><cancelable>false</cancelable>",
            r#"<result xsi:type="xsd:string">{result}</result>"#,
            r#"<reason xsi:type="TaskReasonUser"><userName>root</userName></reason>"#,
            "<queueTime>2026-11-30T01:02:03.000Z</queueTime>",
            "<completeTime>2026-11-30T01:02:04.000Z</completeTime>",
            "<eventChainId>7</eventChainId></val></propSet></objects></returnval>",
            "</RetrievePropertiesExResponse>"
        ),
        task = task,
        description = description,
        entity = entity,
        result = result
    )
}
