//! SOAP dispute cases: read, update, conflict, closed, check.

use super::*;

#[tokio::test]
async fn soap_dispute_cases_read_update_conflict_closed_check() {
    let h = spawn(MockErpConfig::default()).await;
    let c = client();
    let cases = &h.dataset().dispute_cases;
    let open = read_case(&c, &h, &cases[0].case_id).await;
    assert_eq!(open.status_code, "OPEN");
    assert!(!open.closed);
    assert_eq!(open.items.len(), 1);

    // Check: validates, writes nothing.
    let req = dc::UpdateRequest {
        case_id: open.case_id.clone(),
        change_state_id: open.change_state_id.clone(),
        status_code: Some("INPR".into()),
        note: Some("Customer sent proof of delivery".into()),
    };
    let checked = update(&c, &h, &req, true).await;
    assert!(!checked.is_error());
    assert!(checked.has(log_type::CHECK_OK));
    assert!(h.writes().is_empty());
    assert_eq!(read_case(&c, &h, &open.case_id).await, open);

    let done = update(&c, &h, &req, false).await;
    assert!(done.has(log_type::UPDATED), "{done:?}");
    assert_eq!(done.status_code.as_deref(), Some("INPR"));
    assert_ne!(
        done.change_state_id.as_deref(),
        Some(open.change_state_id.as_str())
    );
    let writes = h.writes();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].entity_set, "DisputeCase");
    assert_eq!(writes[0].key, open.case_id);
    assert_eq!(writes[0].method, "Update");
    assert_eq!(writes[0].body["StatusCode"], "INPR");

    // The old ChangeStateID is stale now.
    let stale = update(&c, &h, &req, false).await;
    assert!(stale.is_error());
    assert!(stale.has(log_type::CHANGE_STATE_MISMATCH));
    assert_eq!(h.writes().len(), 1);

    // Closed and voided cases refuse changes.
    for idx in [2, 3] {
        let closed = read_case(&c, &h, &cases[idx].case_id).await;
        assert!(closed.closed);
        let r = update(
            &c,
            &h,
            &dc::UpdateRequest {
                case_id: closed.case_id.clone(),
                change_state_id: closed.change_state_id.clone(),
                status_code: Some("OPEN".into()),
                note: None,
            },
            false,
        )
        .await;
        assert!(r.has(log_type::CASE_CLOSED));
    }

    // Unknown case: an error in the log; garbage: a SOAP fault; no auth: 401.
    let req = dc::build_read_request(
        SoapVersion::V11,
        &dc::ReadRequest {
            case_id: "999999999999".into(),
        },
    );
    let r = soap(&c, &h, SoapVersion::V11, req).await;
    let resp = dc::parse_read_response(&r.text().await.unwrap()).unwrap();
    assert!(resp.case.is_none());
    assert_eq!(resp.log[0].type_id, log_type::NOT_FOUND);
    let r = soap(&c, &h, SoapVersion::V11, "<nonsense/>".into()).await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(matches!(
        dc::parse_read_response(&r.text().await.unwrap()),
        Err(dc::SoapError::Fault { .. })
    ));
    let r = c.post(h.soap_url()).body("x").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(h.writes().len(), 1);
}
