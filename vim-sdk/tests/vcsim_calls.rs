//! Generated operations called against govmomi's simulator: the envelope, the SOAP action, the
//! typed results and typed faults.
#![cfg(feature = "vcsim")]

use vim_sdk::mo;
use vim_sdk::testing::Vcsim;
use vim_sdk::types::{
    AnyMethodFault, ObjectSpec, PropertyFilterSpec, PropertySpec, RetrieveOptions,
};

#[path = "support/vcsim.rs"]
mod vcsim;
use vcsim::{client, start};

#[tokio::test]
async fn login_retrieve_and_typed_fault() {
    let sim = start(Vcsim::builder().esx());
    let c = client(&sim);
    let si = c.service_instance();
    let content = si
        .retrieve_service_content(&c)
        .await
        .expect("service content");
    assert_eq!(content.about.api_version, "6.5");
    let sm =
        mo::SessionManager::from_ref(content.session_manager.clone().expect("session manager"));

    let err = sm
        .login(&c, sim.username(), "wrong", None)
        .await
        .expect_err("bad password refused");
    assert_eq!(err.fault_type(), Some("InvalidLogin"));
    match &err.fault().unwrap().detail {
        Some(AnyMethodFault::InvalidLogin(_)) => {}
        other => panic!("expected a typed InvalidLogin, got {other:?}"),
    }
    assert!(
        err.to_string().contains("Login on SessionManager:"),
        "{err}"
    );

    let session = sm
        .login(&c, sim.username(), sim.password(), None)
        .await
        .expect("login");
    assert_eq!(session.user_name, sim.username());
    assert!(c.session_cookie().is_some());

    let pc = mo::PropertyCollector::from_ref(content.property_collector.clone());
    let spec = PropertyFilterSpec {
        prop_set: vec![PropertySpec {
            r#type: "Folder".into(),
            path_set: vec!["name".into()],
            ..Default::default()
        }],
        object_set: vec![ObjectSpec {
            obj: content.root_folder.clone(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let res = pc
        .retrieve_properties_ex(&c, &[spec], &RetrieveOptions::default())
        .await
        .expect("retrieve");
    let res = res.expect("a result");
    assert_eq!(res.objects.len(), 1);
    assert_eq!(res.objects[0].obj, content.root_folder);
    assert_eq!(res.objects[0].prop_set[0].name, "name");
    sm.logout(&c).await.expect("logout");
}
