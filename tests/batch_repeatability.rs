//! Repeatable `$batch` writes (`Repeatability-Request-ID`, `Repeatability-First-Sent`):
//! the mock ERP runs each repeatable part once and answers a repeat from its record, and
//! the push sends a batch whose answer was lost again as it was, so every note is written
//! exactly once without the text being read in between: repeatability, not the note
//! markers, is what keeps the repeat from writing twice.

mod common;

use chrono::Utc;
use common::TestEnv;
use erpsync::config::PushConfig;
use erpsync::erp::connect;
use erpsync::erp::mapping::Mapping;
use erpsync::erp::odata::batch::{self, BatchWrite, PartResult};
use erpsync::erp::odata::query::with_sap_client;
use erpsync::erp::odata::ODataClient;
use erpsync::erp::sap_writer::notes;
use erpsync::mock_erp::FaultSpec;
use erpsync::model::note::CollectorNote;
use erpsync::model::NoteChannel;
use erpsync::push::{self, PushReport};
use erpsync::store::{OutboxStatus, SharedStore};
use serde_json::json;

struct Ctx {
    env: TestEnv,
    store: SharedStore,
    mapping: Mapping,
    client: ODataClient,
    push: PushConfig,
}

/// A mock ERP and an agent pushing notes as `$batch`; with `localhost`, the agent names
/// the mock `localhost` rather than `127.0.0.1`.
async fn ctx(localhost: bool) -> Ctx {
    let env = TestEnv::start(20, 100).await;
    if localhost {
        env.write_config(&env.mock.base_url().replace("127.0.0.1", "localhost"), 1);
    }
    let store = env.store().await;
    let config = env.config();
    let mut push = config.push.clone();
    push.batch = true;
    push.batch_size = 10;
    let (mapping, client) = common::erp_of(&config);
    Ctx {
        mapping,
        client,
        push,
        store,
        env,
    }
}

impl Ctx {
    fn customer(&self, i: usize) -> String {
        self.env.mock.dataset().customers[i].customer.clone()
    }

    async fn note(&self, customer: &str, text: &str) -> CollectorNote {
        let n = common::notes::collector(customer, text, NoteChannel::Phone);
        self.store.add_note(&n).await.unwrap();
        n
    }

    async fn drain(&self) -> PushReport {
        push::drain(
            self.store.as_ref(),
            connect::writer_for(&self.client, &self.mapping).as_ref(),
            &self.push,
        )
        .await
        .unwrap()
    }

    /// The writes the mock ran that carry the note's marker.
    fn writes_of(&self, n: &CollectorNote) -> Vec<erpsync::mock_erp::WriteRecord> {
        self.env
            .mock
            .writes()
            .into_iter()
            .filter(|w| w.body.to_string().contains(&n.note.marker()))
            .collect()
    }

    async fn in_erp(&self, n: &CollectorNote) -> usize {
        notes::read_text(&self.client, &self.mapping.targets.notes, &n.note)
            .await
            .unwrap()
            .matches(&n.note.marker())
            .count()
    }

    /// Sends `writes` as one `$batch` request, as the push does, and reads the answer.
    async fn post(&self, writes: &[BatchWrite]) -> Vec<PartResult> {
        let root = self.client.service_root("API_BUSINESS_PARTNER");
        let url = with_sap_client(root.join("$batch").unwrap(), self.client.sap_client());
        let request = batch::build(writes, "t");
        self.post_raw(&url, &request.content_type, &request.body, writes.len())
            .await
    }

    async fn post_raw(
        &self,
        url: &url::Url,
        content_type: &str,
        body: &str,
        writes: usize,
    ) -> Vec<PartResult> {
        let root = self.client.service_root("API_BUSINESS_PARTNER");
        let resp = self
            .client
            .post_raw("$batch", &root, url, content_type, body)
            .await
            .expect("the $batch request is answered");
        let ct = resp.content_type.unwrap_or_default();
        batch::parse_response(&ct, &String::from_utf8_lossy(&resp.body), writes).unwrap()
    }
}

fn text_key(customer: &str) -> String {
    format!("A_CustomerText(Customer='{customer}',Language='EN',LongTextID='Z001')")
}

fn create(customer: &str, text: &str) -> BatchWrite {
    BatchWrite {
        method: "POST".into(),
        resource: "A_CustomerText".into(),
        body: Some(
            json!({"Customer": customer, "Language": "EN", "LongTextID": "Z001",
            "LongText": text}),
        ),
        if_match: None,
        repeatability: None,
    }
}

fn replace(customer: &str, text: &str) -> BatchWrite {
    BatchWrite {
        method: "PATCH".into(),
        resource: text_key(customer),
        body: Some(json!({ "LongText": text })),
        if_match: Some("*".into()),
        repeatability: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mock_runs_a_repeatable_part_once_and_answers_its_repeat_from_the_record() {
    let c = ctx(false).await;
    let (a, b) = (c.customer(1), c.customer(2));
    // A text to change; created without repeatability, as a service that ignores it would.
    let setup = c.post(&[create(&b, "first line")]).await;
    assert_eq!(setup[0].status, 201);
    assert_eq!(setup[0].repeatability, None, "nothing said when not asked");

    let first_sent = Utc::now();
    let writes = [
        create(&a, "created once").repeatable(&["note-a"], first_sent),
        replace(&b, "first line\nadded once").repeatable(&["note-b"], first_sent),
    ];
    let ids: Vec<String> = writes
        .iter()
        .map(|w| w.repeatability.clone().unwrap().request_id)
        .collect();
    let answers = c.post(&writes).await;
    assert_eq!(
        answers.iter().map(|r| r.status).collect::<Vec<_>>(),
        [201, 204]
    );
    assert!(answers
        .iter()
        .all(|r| r.repeatability.as_deref() == Some("accepted")));
    let writes_after_first = c.env.mock.writes();
    assert_eq!(writes_after_first.len(), 3);
    assert_eq!(
        writes_after_first[1..]
            .iter()
            .map(|w| w.request_id.clone().unwrap())
            .collect::<Vec<_>>(),
        ids,
        "each write is logged with the id it ran under"
    );

    // The same request again (its answer was lost, say): answered from the record,
    // status, ETag and body as the first time, and nothing runs.
    let again = c.post(&writes).await;
    for (first, repeat) in answers.iter().zip(&again) {
        assert_eq!(
            (repeat.status, &repeat.etag, &repeat.body),
            (first.status, &first.etag, &first.body)
        );
        assert_eq!(repeat.repeatability.as_deref(), Some("accepted"));
    }
    assert_eq!(
        c.env.mock.writes(),
        writes_after_first,
        "the repeat ran nothing: the write log is as before"
    );
    // Run again, the create would have met the text it made (409): the record answered.
    assert_eq!(
        c.env
            .mock
            .customer_texts(&a)
            .matches("created once")
            .count(),
        1
    );

    // The same writes under new ids are new requests: they run (and the create now fails).
    let later = Utc::now();
    let fresh = [
        create(&a, "created once").repeatable(&["note-a", "another"], later),
        replace(&b, "first line\nadded once").repeatable(&["note-b", "another"], later),
    ];
    let answers = c.post(&fresh).await;
    assert_eq!(
        answers.iter().map(|r| r.status).collect::<Vec<_>>(),
        [409, 204],
        "ids, not bodies, make a repeat"
    );
    assert_eq!(c.env.mock.writes().len(), 4);
    // Nor is a failure kept: the 409 part, sent again, runs (and fails) again.
    let answers = c.post(&fresh[..1]).await;
    assert_eq!(answers[0].status, 409);

    // An id without a first-sent date is refused, as the standard asks.
    let root = c.client.service_root("API_BUSINESS_PARTNER");
    let url = with_sap_client(root.join("$batch").unwrap(), c.client.sap_client());
    let request = batch::build(
        &[replace(&b, "no date").repeatable(&["note-c"], Utc::now())],
        "nodate",
    );
    let body: String = request
        .body
        .lines()
        .filter(|l| !l.starts_with("Repeatability-First-Sent"))
        .map(|l| format!("{l}\n"))
        .collect();
    let answers = c.post_raw(&url, &request.content_type, &body, 1).await;
    assert_eq!(answers[0].status, 400);
    assert_eq!(answers[0].repeatability.as_deref(), Some("rejected"));
    assert!(answers[0].body.contains("Repeatability-First-Sent"));
    assert_eq!(c.env.mock.writes().len(), 4, "a refused part runs nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_answer_is_lost_is_sent_again_and_each_note_is_written_once() {
    let c = ctx(false).await;
    // One batch first: the service's answer shows it honours repeatability.
    let warm = c.note(&c.customer(5), "the first note").await;
    let r = c.drain().await;
    assert_eq!(r.notes, 1, "{r:?}");
    assert_eq!(c.writes_of(&warm).len(), 1);

    // Notes for a customer with a text (a PATCH) and for two without (POSTs).
    let notes = [
        c.note(&c.customer(5), "second note, same text").await,
        c.note(&c.customer(5), "third note, same text").await,
        c.note(&c.customer(6), "a new text").await,
        c.note(&c.customer(7), "another new text").await,
    ];
    // The first `$batch` runs and its answer is lost halfway; every `$batch` after it is
    // counted (a 1 ms delay), so `faults_fired` counts the requests.
    c.env.mock.set_faults(
        "drop@$batch:1,delay=1@$batch:*"
            .parse::<FaultSpec>()
            .unwrap(),
    );
    let r = c.drain().await;
    assert_eq!(
        (r.notes, r.already_there, r.retry_later, r.failed),
        (4, 0, 0, 0),
        "sent, in this drain, on the repeat's answers: {r:?}"
    );
    assert_eq!(
        c.env.mock.faults_fired(),
        2,
        "two $batch requests: the lost one and its repeat"
    );
    // The repeat carried the writes again. Had the mock run them, each text would hold its
    // notes twice (or the PATCH, on a stale ETag, would have failed and the notes been
    // found by their markers after a re-read: `already_there`). It answered from its record.
    let mut ids = std::collections::BTreeSet::new();
    for n in &notes {
        let writes = c.writes_of(n);
        assert_eq!(writes.len(), 1, "written once: {writes:?}");
        assert_eq!(c.in_erp(n).await, 1, "and held once");
        let id = writes[0].request_id.clone().expect("written under its id");
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        ids.insert(id);
    }
    assert_eq!(
        ids.len(),
        3,
        "one id per change set (two notes share a text)"
    );
    let sent = c.store.outbox_list(Some(OutboxStatus::Sent)).await.unwrap();
    assert_eq!(sent.len(), 5);
    assert!(
        sent.iter()
            .all(|e| e.attempts == 1 && e.last_error.is_none()),
        "each sent at its first attempt, no failure recorded: {sent:?}"
    );

    // An answer that arrives cut off is as good as lost: the same again.
    let more = [
        c.note(&c.customer(6), "after a cut-off answer").await,
        c.note(&c.customer(8), "after a cut-off answer too").await,
    ];
    c.env.mock.set_faults(
        "malformed@$batch:1,delay=1@$batch:*"
            .parse::<FaultSpec>()
            .unwrap(),
    );
    let r = c.drain().await;
    assert_eq!(
        (r.notes, r.already_there, r.retry_later),
        (2, 0, 0),
        "{r:?}"
    );
    assert_eq!(c.env.mock.faults_fired(), 2);
    for n in &more {
        assert_eq!(c.writes_of(n).len(), 1, "written once");
    }
    // (A PATCH carries the whole text, so older notes of customer 6 ride along in its body.)
    for n in more.iter().chain(&notes) {
        assert_eq!(c.in_erp(n).await, 1, "held once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_word_that_the_service_honours_repeatability_a_lost_answer_is_not_resent() {
    // The mock under another host name: an endpoint no earlier answer in this process
    // came from.
    let c = ctx(true).await;
    assert!(c.client.service_root("X").as_str().contains("localhost"));
    let notes = [
        c.note(&c.customer(3), "lost on the way back").await,
        c.note(&c.customer(4), "lost as well").await,
    ];
    c.env.mock.set_faults(
        "drop@$batch:1,delay=1@$batch:*"
            .parse::<FaultSpec>()
            .unwrap(),
    );
    let r = c.drain().await;
    assert_eq!(r.retry_later, 2, "the outcome is unknown: {r:?}");
    assert_eq!(c.env.mock.faults_fired(), 1, "not sent again unread");
    // The next drain reads the texts: the markers show both arrived.
    let r = c.drain().await;
    assert_eq!(r.already_there, 2, "{r:?}");
    assert_eq!(c.env.mock.faults_fired(), 1, "nothing left to send");
    for n in &notes {
        assert_eq!(c.writes_of(n).len(), 1);
        assert_eq!(c.in_erp(n).await, 1);
    }
}

/// `[targets.notes] repeatability` in the mapping decides without waiting for the service's
/// word: `true` sends a lost batch again even to an endpoint no answer has come from yet,
/// `false` never does, even to one that has said it honours repeatability.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mapping_can_say_whether_the_service_honours_repeatability() {
    let mut c = ctx(true).await;
    c.mapping.targets.notes.repeatability = Some(true);
    let note = c.note(&c.customer(3), "lost, sent again at once").await;
    c.env.mock.set_faults(
        "drop@$batch:1,delay=1@$batch:*"
            .parse::<FaultSpec>()
            .unwrap(),
    );
    let r = c.drain().await;
    assert_eq!((r.notes, r.retry_later), (1, 0), "{r:?}");
    assert_eq!(
        c.env.mock.faults_fired(),
        2,
        "the lost batch and its repeat"
    );
    assert_eq!(c.writes_of(&note).len(), 1, "written once");
    assert_eq!(c.in_erp(&note).await, 1);

    // The endpoint has now answered `accepted`; the mapping still says no.
    c.mapping.targets.notes.repeatability = Some(false);
    let note = c
        .note(&c.customer(4), "lost, left for the next drain")
        .await;
    c.env.mock.set_faults(
        "drop@$batch:1,delay=1@$batch:*"
            .parse::<FaultSpec>()
            .unwrap(),
    );
    let r = c.drain().await;
    assert_eq!(r.retry_later, 1, "{r:?}");
    assert_eq!(c.env.mock.faults_fired(), 1, "not sent again unread");
    let r = c.drain().await;
    assert_eq!(r.already_there, 1, "the marker shows it arrived: {r:?}");
    assert_eq!(c.writes_of(&note).len(), 1);
}
