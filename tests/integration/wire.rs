//! The three wire protocols against a loopback fake provider: recorded streams with
//! hostile framing assemble exactly, every failure is typed, requests carry the key in
//! exactly one header, and keys never follow a redirect to another host.

use std::time::Duration;

use hearth_providers::{
    list_models, start_chat, ChatRequest, ChatRole, ChatTurn, Endpoint, FileKind, Http,
    ProviderError, ProviderKind, StreamEvent, TurnFile,
};
use hearth_tests::fake_provider::*;

const KEY: &str = "sk-canary-KEY-0123456789abcdef";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn endpoint(fake: &FakeProvider, protocol: Protocol) -> Endpoint {
    let (kind, seg) = match protocol {
        Protocol::OpenAi => (ProviderKind::OpenAiCompatible, "/v1"),
        Protocol::Anthropic => (ProviderKind::Anthropic, "/v1"),
        Protocol::Gemini => (ProviderKind::Gemini, "/v1beta"),
    };
    Endpoint {
        provider_id: "test".into(),
        kind,
        base_url: fake.base_url(seg),
    }
}

fn request() -> ChatRequest {
    ChatRequest {
        model: "test-model".into(),
        system: Some("Be brief.".into()),
        turns: vec![
            ChatTurn {
                role: ChatRole::User,
                text: "first question".into(),
                files: Vec::new(),
                ..Default::default()
            },
            ChatTurn {
                role: ChatRole::Assistant,
                text: "first answer".into(),
                files: Vec::new(),
                ..Default::default()
            },
            ChatTurn {
                role: ChatRole::User,
                text: "second question".into(),
                files: Vec::new(),
                ..Default::default()
            },
        ],
        max_tokens: None,
        temperature: None,
        tools: Vec::new(),
        reasoning: None,
    }
}

/// What a stream assembled to.
#[derive(Debug, Default)]
struct Assembled {
    text: String,
    reasoning: String,
    tokens_in: Option<u64>,
    tokens_out: Option<u64>,
    calls: Vec<hearth_providers::ToolCall>,
    error: Option<ProviderError>,
}

async fn assemble(fake: &FakeProvider, protocol: Protocol, idle: Duration) -> Assembled {
    assemble_with(&Http::new().unwrap(), fake, protocol, idle).await
}

async fn assemble_with(
    http: &Http,
    fake: &FakeProvider,
    protocol: Protocol,
    idle: Duration,
) -> Assembled {
    let mut out = Assembled::default();
    let mut stream =
        match start_chat(http, &endpoint(fake, protocol), Some(KEY), &request(), idle).await {
            Ok(s) => s,
            Err(e) => {
                out.error = Some(e);
                return out;
            }
        };
    while let Some(item) = stream.next().await {
        match item {
            Ok(StreamEvent::Text(t)) => out.text.push_str(&t),
            Ok(StreamEvent::Reasoning(r)) => out.reasoning.push_str(&r),
            Ok(StreamEvent::ToolCall(c)) => out.calls.push(c),
            Ok(StreamEvent::Usage(u)) => {
                out.tokens_in = u.input.or(out.tokens_in);
                out.tokens_out = u.output.or(out.tokens_out);
            }
            Err(e) => {
                out.error = Some(e);
                break;
            }
        }
    }
    out
}

fn check(fixture: &StreamFixture, got: &Assembled, how: &str) {
    let ctx = format!("{} ({how})", fixture.file);
    assert_eq!(got.text, fixture.text, "{ctx}");
    assert_eq!(
        got.reasoning,
        fixture.reasoning.clone().unwrap_or_default(),
        "{ctx}"
    );
    if fixture.refused {
        // The refusal's text arrives as text, and the end says it was a refusal.
        assert!(
            matches!(got.error, Some(ProviderError::Refused { .. })),
            "{ctx}: {:?}",
            got.error
        );
        assert_eq!(
            (got.tokens_in, got.tokens_out),
            (fixture.tokens_in, fixture.tokens_out),
            "{ctx}"
        );
    } else if fixture.terminated {
        assert!(got.error.is_none(), "{ctx}: {:?}", got.error);
        assert_eq!(
            (got.tokens_in, got.tokens_out),
            (fixture.tokens_in, fixture.tokens_out),
            "{ctx}"
        );
    } else if let Some(message) = &fixture.error {
        let e = got
            .error
            .as_ref()
            .unwrap_or_else(|| panic!("{ctx}: expected an error"));
        assert!(e.to_string().contains(message.as_str()), "{ctx}: {e}");
    } else {
        assert_eq!(got.error, Some(ProviderError::Truncated), "{ctx}");
    }
}

fn serve(bytes: Vec<Vec<u8>>) -> FakeProvider {
    FakeProvider::always(Reply::sse(bytes))
}

#[test]
fn every_recorded_stream_assembles_exactly_however_it_is_framed() {
    let rt = rt();
    let http = Http::new().unwrap();
    for fixture in stream_fixtures() {
        let bytes = fixture.bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let mut framings: Vec<(&str, Vec<Vec<u8>>)> = vec![
            ("whole", vec![bytes.clone()]),
            ("byte by byte", byte_by_byte(&bytes)),
            (
                "7-byte chunks",
                bytes.chunks(7).map(<[u8]>::to_vec).collect(),
            ),
        ];
        // Line endings: the same stream with CRLF and with bare CR.
        if !text.contains('\r') {
            framings.push(("CRLF", vec![with_crlf(&text)]));
            framings.push(("CR", byte_by_byte(&with_cr(&text))));
        }
        for (how, chunks) in framings {
            let fake = serve(chunks);
            let got = rt.block_on(assemble_with(
                &http,
                &fake,
                fixture.protocol,
                Duration::from_secs(10),
            ));
            check(&fixture, &got, how);
        }
    }
}

#[test]
fn every_split_position_of_each_protocol_assembles_exactly() {
    let rt = rt();
    let http = Http::new().unwrap();
    for file in [
        "openai-basic.sse",
        "anthropic-basic.sse",
        "gemini-basic.sse",
    ] {
        let fixture = stream_fixture(file);
        let bytes = fixture.bytes();
        // One server answers every split in turn.
        let splits: Vec<Vec<Vec<u8>>> = every_split(&bytes).collect();
        let fake = FakeProvider::sequence(splits.iter().cloned().map(Reply::sse).collect());
        for (i, _) in splits.iter().enumerate() {
            let got = rt.block_on(assemble_with(
                &http,
                &fake,
                fixture.protocol,
                Duration::from_secs(10),
            ));
            check(&fixture, &got, &format!("split at {}", i + 1));
        }
    }
}

#[test]
fn requests_have_each_protocols_shape_and_the_key_in_exactly_one_header() {
    let rt = rt();
    for (protocol, file) in [
        (Protocol::OpenAi, "openai-basic.sse"),
        (Protocol::Anthropic, "anthropic-basic.sse"),
        (Protocol::Gemini, "gemini-basic.sse"),
    ] {
        let fake = FakeProvider::always(Reply::sse_fixture(file));
        let got = rt.block_on(assemble(&fake, protocol, Duration::from_secs(10)));
        assert!(got.error.is_none(), "{got:?}");
        let requests = fake.requests();
        assert_eq!(requests.len(), 1);
        let r = &requests[0];
        assert_eq!(r.method, "POST");
        let holding_key: Vec<&str> = r
            .headers
            .iter()
            .filter(|(_, v)| v.contains(KEY))
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(holding_key.len(), 1, "{protocol:?}: key in {holding_key:?}");
        assert!(
            !r.path.contains(KEY) && !r.body_text().contains(KEY),
            "{protocol:?}: key leaked into URL or body"
        );
        let body = r.json();
        match protocol {
            Protocol::OpenAi => {
                assert_eq!(r.path, "/v1/chat/completions");
                assert_eq!(
                    r.header("authorization"),
                    Some(format!("Bearer {KEY}").as_str())
                );
                assert_eq!(body["stream"], true);
                let roles: Vec<&str> = body["messages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["role"].as_str().unwrap())
                    .collect();
                assert_eq!(roles, ["system", "user", "assistant", "user"]);
                assert_eq!(body["messages"][0]["content"], "Be brief.");
            }
            Protocol::Anthropic => {
                assert_eq!(r.path, "/v1/messages");
                assert_eq!(r.header("x-api-key"), Some(KEY));
                assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
                assert_eq!(body["system"], "Be brief.");
                assert!(body["max_tokens"].as_u64().unwrap() > 0);
                let roles: Vec<&str> = body["messages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["role"].as_str().unwrap())
                    .collect();
                assert_eq!(roles, ["user", "assistant", "user"]);
            }
            Protocol::Gemini => {
                assert_eq!(
                    r.path,
                    "/v1beta/models/test-model:streamGenerateContent?alt=sse"
                );
                assert_eq!(r.header("x-goog-api-key"), Some(KEY));
                assert_eq!(body["systemInstruction"]["parts"][0]["text"], "Be brief.");
                let roles: Vec<&str> = body["contents"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["role"].as_str().unwrap())
                    .collect();
                assert_eq!(roles, ["user", "model", "user"]);
            }
        }
    }
}

/// A real PNG, a real PDF and a text file, attached to the first question.
fn files() -> Vec<TurnFile> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let file = |name: &str, media_type: &str, kind, bytes: Vec<u8>| TurnFile {
        name: name.into(),
        media_type: media_type.into(),
        kind,
        bytes: bytes.into(),
    };
    vec![
        file(
            "icon.png",
            "image/png",
            FileKind::Image,
            std::fs::read(root.join("icons/32x32.png")).unwrap(),
        ),
        file(
            "paper.pdf",
            "application/pdf",
            FileKind::Pdf,
            std::fs::read(root.join("tests/data/attachments/minimal-document.pdf")).unwrap(),
        ),
        file(
            "notes.md",
            "text/markdown",
            FileKind::Text,
            "# Notes\nünïcödé \"quoted\"\n".as_bytes().to_vec(),
        ),
    ]
}

fn decoded(value: &serde_json::Value) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(value.as_str().unwrap())
        .unwrap()
}

#[test]
fn attached_files_go_in_each_protocols_own_shape_with_their_exact_bytes() {
    let rt = rt();
    let files = files();
    let (png, pdf) = (files[0].bytes.to_vec(), files[1].bytes.to_vec());
    let block =
        "<file name=\"notes.md\" type=\"text/markdown\">\n# Notes\nünïcödé \"quoted\"\n</file>";
    for (protocol, fixture) in [
        (Protocol::OpenAi, "openai-basic.sse"),
        (Protocol::Anthropic, "anthropic-basic.sse"),
        (Protocol::Gemini, "gemini-basic.sse"),
    ] {
        let fake = FakeProvider::always(Reply::sse_fixture(fixture));
        let mut req = request();
        // Files on the first question, which is history by now, and on the model's turn
        // (where no protocol takes them, so they are left out).
        req.turns[0].files = files.clone();
        req.turns[1].files = files.clone();
        rt.block_on(async {
            let http = Http::new().unwrap();
            let ep = endpoint(&fake, protocol);
            let mut s = start_chat(&http, &ep, Some(KEY), &req, Duration::from_secs(5))
                .await
                .unwrap();
            while s.next().await.is_some() {}
        });
        let body = fake.requests()[0].json();
        match protocol {
            Protocol::OpenAi => {
                let parts = body["messages"][1]["content"].as_array().unwrap();
                assert_eq!(parts.len(), 4, "{parts:?}");
                assert_eq!(parts[0]["type"], "image_url");
                let url = parts[0]["image_url"]["url"].as_str().unwrap();
                let data = url.strip_prefix("data:image/png;base64,").unwrap();
                assert_eq!(decoded(&data.into()), png);
                assert_eq!(parts[1]["type"], "file");
                assert_eq!(parts[1]["file"]["filename"], "paper.pdf");
                let url = parts[1]["file"]["file_data"].as_str().unwrap();
                let data = url.strip_prefix("data:application/pdf;base64,").unwrap();
                assert_eq!(decoded(&data.into()), pdf);
                assert_eq!(parts[2], serde_json::json!({"type": "text", "text": block}));
                assert_eq!(
                    parts[3],
                    serde_json::json!({"type": "text", "text": "first question"})
                );
                assert_eq!(body["messages"][2]["content"], "first answer");
                assert_eq!(body["messages"][3]["content"], "second question");
            }
            Protocol::Anthropic => {
                let blocks = body["messages"][0]["content"].as_array().unwrap();
                assert_eq!(blocks.len(), 4, "{blocks:?}");
                assert_eq!(blocks[0]["type"], "image");
                assert_eq!(blocks[0]["source"]["type"], "base64");
                assert_eq!(blocks[0]["source"]["media_type"], "image/png");
                assert_eq!(decoded(&blocks[0]["source"]["data"]), png);
                assert_eq!(blocks[1]["type"], "document");
                assert_eq!(blocks[1]["source"]["media_type"], "application/pdf");
                assert_eq!(decoded(&blocks[1]["source"]["data"]), pdf);
                assert_eq!(
                    blocks[2],
                    serde_json::json!({"type": "text", "text": block})
                );
                assert_eq!(blocks[3]["text"], "first question");
                assert_eq!(body["messages"][1]["content"], "first answer");
            }
            Protocol::Gemini => {
                let parts = body["contents"][0]["parts"].as_array().unwrap();
                assert_eq!(parts.len(), 4, "{parts:?}");
                assert_eq!(parts[0]["inline_data"]["mime_type"], "image/png");
                assert_eq!(decoded(&parts[0]["inline_data"]["data"]), png);
                assert_eq!(parts[1]["inline_data"]["mime_type"], "application/pdf");
                assert_eq!(decoded(&parts[1]["inline_data"]["data"]), pdf);
                assert_eq!(parts[2], serde_json::json!({"text": block}));
                assert_eq!(parts[3], serde_json::json!({"text": "first question"}));
                assert_eq!(
                    body["contents"][1]["parts"],
                    serde_json::json!([{"text": "first answer"}])
                );
            }
        }
    }
}

#[test]
fn openrouter_requests_name_hearth() {
    let rt = rt();
    let fake = FakeProvider::always(Reply::sse_fixture("openrouter-reasoning.sse"));
    let mut ep = endpoint(&fake, Protocol::OpenAi);
    ep.provider_id = "openrouter".into();
    rt.block_on(async {
        let http = Http::new().unwrap();
        let mut s = start_chat(&http, &ep, Some(KEY), &request(), Duration::from_secs(5))
            .await
            .unwrap();
        while s.next().await.is_some() {}
    });
    let r = &fake.requests()[0];
    assert_eq!(r.header("x-openrouter-title"), Some("Hearth"));
}

fn status_error(protocol: Protocol, reply: Reply) -> ProviderError {
    let fake = FakeProvider::always(reply);
    let got = rt().block_on(assemble(&fake, protocol, Duration::from_secs(5)));
    let shown = format!("{got:?}");
    let e = got
        .error
        .unwrap_or_else(|| panic!("expected an error, got {shown}"));
    assert!(!e.to_string().contains(KEY), "{e}");
    e
}

#[test]
fn each_failure_before_the_stream_is_typed() {
    use ProviderError as E;
    let openai_401 = format!(
        r#"{{"error":{{"message":"Incorrect API key provided: {KEY}.","type":"invalid_request_error","code":"invalid_api_key"}}}}"#
    );
    assert!(matches!(
        status_error(Protocol::OpenAi, Reply::json(401, &openai_401)),
        E::Auth { .. }
    ));
    assert!(matches!(
        status_error(
            Protocol::OpenAi,
            Reply::json(403, r#"{"error":{"message":"Country not supported"}}"#)
        ),
        E::Auth { .. }
    ));
    assert!(matches!(
        status_error(Protocol::OpenAi, Reply::json(429, r#"{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}"#).header("retry-after", "7")),
        E::RateLimited { retryable: true, retry_after: Some(d), .. } if d == Duration::from_secs(7)
    ));
    assert!(matches!(
        status_error(
            Protocol::OpenAi,
            Reply::json(
                429,
                r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#
            )
        ),
        E::RateLimited {
            retryable: false,
            ..
        }
    ));
    assert!(matches!(
        status_error(
            Protocol::OpenAi,
            Reply::json(
                404,
                r#"{"error":{"message":"The model `x` does not exist","code":"model_not_found"}}"#
            )
        ),
        E::ModelNotFound { .. }
    ));
    for status in [500, 503] {
        assert!(
            matches!(status_error(Protocol::OpenAi, Reply::json(status, r#"{"error":{"message":"overloaded"}}"#)), E::Server { status: Some(s), .. } if s == status)
        );
    }
    assert!(matches!(
        status_error(
            Protocol::Anthropic,
            Reply::json(
                529,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
            )
        ),
        E::Server {
            status: Some(529),
            ..
        }
    ));
    assert!(matches!(
        status_error(
            Protocol::Anthropic,
            Reply::json(
                401,
                r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#
            )
        ),
        E::Auth { .. }
    ));
    let gemini_bad_key = r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}"#;
    assert!(matches!(
        status_error(Protocol::Gemini, Reply::json(400, gemini_bad_key)),
        E::Auth { .. }
    ));
    // A 200 that is not an event stream but an error object.
    assert!(matches!(
        status_error(
            Protocol::OpenAi,
            Reply::json(
                200,
                r#"{"error":{"message":"quota","type":"insufficient_quota"}}"#
            )
        ),
        E::RateLimited {
            retryable: false,
            ..
        }
    ));
}

#[test]
fn a_reset_connection_and_a_stall_are_typed_and_keep_what_arrived() {
    let fixture = stream_fixture("openai-basic.sse");
    let bytes = fixture.bytes();
    let half = bytes.len() / 2;
    let reset =
        FakeProvider::always(Reply::sse(split_at(&bytes[..half], &[half / 2])).end(End::Reset));
    let got = rt().block_on(assemble(&reset, Protocol::OpenAi, Duration::from_secs(5)));
    assert!(
        matches!(got.error, Some(ProviderError::Network { .. })),
        "{got:?}"
    );
    assert!(
        !got.text.is_empty(),
        "text before the reset is delivered: {got:?}"
    );

    let stall = FakeProvider::always(
        Reply::sse(vec![bytes[..half].to_vec()]).end(End::Stall(Duration::from_secs(30))),
    );
    let started = std::time::Instant::now();
    let got = rt().block_on(assemble(
        &stall,
        Protocol::OpenAi,
        Duration::from_millis(700),
    ));
    assert_eq!(
        got.error,
        Some(ProviderError::Timeout {
            idle: Duration::from_millis(700)
        }),
        "{got:?}"
    );
    assert!(!got.text.is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the idle timeout, not the stall, ended it"
    );
    assert!(
        stall.wait_for_closed_by_client(1, Duration::from_secs(5)),
        "the connection was closed after the timeout"
    );
}

#[test]
fn comments_keep_a_slow_stream_alive_past_the_idle_limit() {
    // Keep-alive comments every 300 ms for ~1.5 s, with an idle limit of 800 ms: alive.
    let mut chunks: Vec<Vec<u8>> = (0..5).map(|_| b": keep-alive\n\n".to_vec()).collect();
    chunks.extend(
        byte_by_byte(&stream_bytes("openai-basic.sse"))
            .into_iter()
            .take(1),
    );
    chunks.push(stream_bytes("openai-basic.sse")[1..].to_vec());
    let fake = FakeProvider::always(Reply::sse(chunks).delay(Duration::from_millis(300)));
    let got = rt().block_on(assemble(
        &fake,
        Protocol::OpenAi,
        Duration::from_millis(800),
    ));
    assert!(got.error.is_none(), "{got:?}");
    assert_eq!(got.text, stream_fixture("openai-basic.sse").text);
}

#[test]
fn a_redirect_to_another_host_is_not_followed_with_the_key() {
    let elsewhere = FakeProvider::always(Reply::sse_fixture("openai-basic.sse"));
    let target = format!(
        "{}/chat/completions",
        elsewhere.base_url("/v1").replace("127.0.0.1", "localhost")
    );
    let redirecting = FakeProvider::always(Reply::json(307, "{}").header("location", &target));
    let got = rt().block_on(assemble(
        &redirecting,
        Protocol::OpenAi,
        Duration::from_secs(5),
    ));
    assert!(
        matches!(&got.error, Some(ProviderError::Config(m)) if m.contains("redirect")),
        "{got:?}"
    );
    assert!(
        elsewhere.requests().is_empty(),
        "the key travelled to another host"
    );
}

#[test]
fn plain_http_to_another_machine_is_refused_before_connecting() {
    let ep = Endpoint {
        provider_id: "x".into(),
        kind: ProviderKind::OpenAiCompatible,
        base_url: "http://192.0.2.1:8080/v1".into(),
    };
    let err = rt().block_on(async {
        let http = Http::new().unwrap();
        start_chat(&http, &ep, Some(KEY), &request(), Duration::from_secs(1))
            .await
            .unwrap_err()
    });
    assert!(
        matches!(&err, ProviderError::Config(m) if m.contains("https")),
        "{err:?}"
    );
}

#[test]
fn model_lists_for_each_protocol() {
    let rt = rt();
    let openai = FakeProvider::always(Reply::json(
        200,
        r#"{"object":"list","data":[{"id":"gpt-4o","object":"model"},{"id":"o3","object":"model"}]}"#,
    ));
    let anthropic = FakeProvider::sequence(vec![
        Reply::json(
            200,
            r#"{"data":[{"type":"model","id":"claude-a","display_name":"Claude A"}],"has_more":true,"first_id":"claude-a","last_id":"claude-a"}"#,
        ),
        Reply::json(
            200,
            r#"{"data":[{"type":"model","id":"claude-b","display_name":"Claude B"}],"has_more":false}"#,
        ),
    ]);
    let gemini = FakeProvider::always(Reply::json(
        200,
        r#"{"models":[{"name":"models/gemini-x","displayName":"Gemini X","supportedGenerationMethods":["generateContent"]},{"name":"models/embed","supportedGenerationMethods":["embedContent"]}]}"#,
    ));
    let http = Http::new().unwrap();
    let ids = |fake: &FakeProvider, p: Protocol| -> Vec<String> {
        rt.block_on(list_models(
            &http,
            &endpoint(fake, p),
            Some(KEY),
            Duration::from_secs(5),
        ))
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect()
    };
    assert_eq!(ids(&openai, Protocol::OpenAi), ["gpt-4o", "o3"]);
    assert_eq!(
        ids(&anthropic, Protocol::Anthropic),
        ["claude-a", "claude-b"]
    );
    assert!(anthropic.requests()[1].path.contains("after_id=claude-a"));
    assert_eq!(ids(&gemini, Protocol::Gemini), ["gemini-x"]);
    assert_eq!(openai.requests()[0].path, "/v1/models");
    let failing = FakeProvider::always(Reply::json(401, r#"{"error":{"message":"bad key"}}"#));
    let err = rt
        .block_on(list_models(
            &http,
            &endpoint(&failing, Protocol::OpenAi),
            Some(KEY),
            Duration::from_secs(5),
        ))
        .unwrap_err();
    assert!(matches!(err, ProviderError::Auth { .. }));
}

#[test]
fn inline_think_blocks_become_reasoning_even_split_mid_tag() {
    let deltas = [
        "<th",
        "ink>Count the r",
        "'s: 3.</thi",
        "nk>\n\n",
        "There are **3**.",
    ];
    let mut stream = String::new();
    for d in deltas {
        let delta = serde_json::json!({"choices": [{"index": 0, "delta": {"content": d}}]});
        stream.push_str(&format!("data: {delta}\n\n"));
    }
    stream.push_str("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
    let fake = FakeProvider::always(Reply::sse(byte_by_byte(stream.as_bytes())));
    let got = rt().block_on(assemble(&fake, Protocol::OpenAi, Duration::from_secs(5)));
    assert!(got.error.is_none(), "{got:?}");
    assert_eq!(got.text, "There are **3**.");
    assert_eq!(got.reasoning, "Count the r's: 3.");
}

#[test]
fn data_lines_that_never_end_their_event_stop_at_the_event_limit() {
    // 1 MiB `data:` lines, each far below the line limit, and never the blank line that
    // ends an event: 20 MiB in all, past the 16 MiB an event may hold.
    let mut line = b"data: ".to_vec();
    line.resize(line.len() + 1024 * 1024, b'x');
    line.push(b'\n');
    let mut chunks = vec![
        b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Before\"}}]}\n\n".to_vec(),
    ];
    chunks.extend(std::iter::repeat_n(line, 20));
    let fake = FakeProvider::always(Reply::sse(chunks));
    let got = rt().block_on(assemble(&fake, Protocol::OpenAi, Duration::from_secs(10)));
    assert_eq!(got.text, "Before", "what came before is kept");
    assert_eq!(
        got.error,
        Some(ProviderError::TooLarge {
            what: "a stream event",
            limit: hearth_providers::sse::MAX_EVENT_BYTES,
        })
    );
    assert_eq!(got.error.unwrap().kind(), "too_large");
}

#[test]
fn a_model_list_over_the_limit_is_refused_and_odd_entries_are_dropped() {
    let rt = rt();
    let http = Http::new().unwrap();
    let list = |fake: &FakeProvider| {
        rt.block_on(list_models(
            &http,
            &endpoint(fake, Protocol::OpenAi),
            Some(KEY),
            Duration::from_secs(10),
        ))
    };
    // A valid JSON list, but 9 MiB of it, sent in 64 KiB chunks.
    let mut body = String::from(r#"{"object":"list","data":["#);
    let entry = format!(r#"{{"id":"m","name":"{}"}},"#, "n".repeat(1000));
    while body.len() < hearth_providers::MAX_MODEL_LIST_BYTES + (1 << 20) {
        body.push_str(&entry);
    }
    body.push_str(r#"{"id":"last"}]}"#);
    let mut big = Reply::json(200, "");
    big.chunks = body
        .as_bytes()
        .chunks(64 * 1024)
        .map(<[u8]>::to_vec)
        .collect();
    let err = list(&FakeProvider::always(big)).unwrap_err();
    assert_eq!(
        err,
        ProviderError::TooLarge {
            what: "a model list",
            limit: hearth_providers::MAX_MODEL_LIST_BYTES,
        }
    );
    // Ids that carry the key or run absurdly long are dropped; names are cut.
    let odd = format!(
        r#"{{"data":[{{"id":"ok-model","name":"{}"}},{{"id":"echo-{KEY}"}},{{"id":"{}"}}]}}"#,
        "N".repeat(5000),
        "x".repeat(300)
    );
    let models = list(&FakeProvider::always(Reply::json(200, &odd))).unwrap();
    assert_eq!(models.len(), 1, "{models:?}");
    assert_eq!(models[0].id, "ok-model");
    assert!(models[0].name.as_ref().unwrap().chars().count() <= 200);
}

#[test]
fn gemini_retry_info_becomes_the_retry_after() {
    let body = r#"{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},{"@type":"type.googleapis.com/google.rpc.Help","links":[{"description":"Learn more about Gemini API quotas","url":"https://ai.google.dev/gemini-api/docs/rate-limits"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"34.4s"}]}}"#;
    let e = status_error(Protocol::Gemini, Reply::json(429, body));
    assert!(
        matches!(&e, ProviderError::RateLimited { retryable: true, retry_after: Some(d), .. } if *d == Duration::from_millis(34_400)),
        "{e:?}"
    );
    assert!(e.to_string().contains("try again in 34 s"), "{e}");
    // A malformed delay is no delay, not a failure.
    let odd = body.replace(r#""34.4s""#, r#""soon""#);
    assert!(matches!(
        status_error(Protocol::Gemini, Reply::json(429, &odd)),
        ProviderError::RateLimited {
            retry_after: None,
            ..
        }
    ));
}

/// A stream whose events are `payloads`, each as one `data:` event.
fn events(payloads: &[&str]) -> Reply {
    let body: String = payloads.iter().map(|p| format!("data: {p}\n\n")).collect();
    Reply::sse(vec![body.into_bytes()])
}

#[test]
fn refusals_blocks_and_tool_calls_are_never_an_empty_success() {
    let rt = rt();
    let anthropic_refusal = format!(
        "event: message_start\ndata: {{\"type\":\"message_start\",\"message\":{{\"usage\":{{\"input_tokens\":3,\"output_tokens\":1}}}}}}\n\nevent: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"refusal\",\"stop_details\":{{\"type\":\"refusal\",\"category\":\"cyber\",\"explanation\":\"Declined; key {KEY}.\"}}}},\"usage\":{{\"output_tokens\":2}}}}\n\nevent: message_stop\ndata: {{\"type\":\"message_stop\"}}\n\n"
    );
    let fake = FakeProvider::always(Reply::sse(vec![anthropic_refusal.into_bytes()]));
    let got = rt.block_on(assemble(&fake, Protocol::Anthropic, Duration::from_secs(5)));
    let e = got.error.unwrap();
    assert_eq!(
        e,
        ProviderError::Refused {
            explanation: Some("cyber: Declined; key [key].".into())
        }
    );
    assert_eq!(e.kind(), "refused");
    assert!(!e.retryable());

    let cases: Vec<(Protocol, Reply, ProviderError)> = vec![
        (
            Protocol::OpenAi,
            events(&[
                r#"{"choices":[{"index":0,"delta":{"content":""},"finish_reason":"content_filter"}]}"#,
                "[DONE]",
            ]),
            ProviderError::Refused {
                explanation: Some("the provider's content filter stopped the reply".into()),
            },
        ),
        (
            Protocol::Gemini,
            events(&[
                r#"{"candidates":[{"content":{"role":"model","parts":[]},"finishReason":"SAFETY"}]}"#,
            ]),
            ProviderError::Refused {
                explanation: Some("the provider's safety system stopped the reply: SAFETY".into()),
            },
        ),
        (
            Protocol::Gemini,
            events(&[r#"{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"}}"#]),
            ProviderError::Refused {
                explanation: Some("the provider blocked the prompt: PROHIBITED_CONTENT".into()),
            },
        ),
        (
            Protocol::OpenAi,
            events(&[
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}}]}"#,
                r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
                "[DONE]",
            ]),
            ProviderError::ToolCallsOnly,
        ),
        (
            Protocol::Gemini,
            events(&[
                r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{}}}]},"finishReason":"STOP"}]}"#,
            ]),
            ProviderError::ToolCallsOnly,
        ),
    ];
    for (protocol, reply, expected) in cases {
        let fake = FakeProvider::always(reply);
        let got = rt.block_on(assemble(&fake, protocol, Duration::from_secs(5)));
        assert_eq!(got.error.as_ref(), Some(&expected), "{protocol:?}: {got:?}");
    }

    // A tool call beside real text is an answer: the text is kept, the call ignored.
    let fake = FakeProvider::always(events(&[
        r#"{"candidates":[{"content":{"parts":[{"text":"Paris is sunny."},{"functionCall":{"name":"f","args":{}}}]},"finishReason":"STOP"}]}"#,
    ]));
    let got = rt.block_on(assemble(&fake, Protocol::Gemini, Duration::from_secs(5)));
    assert!(got.error.is_none(), "{got:?}");
    assert_eq!(got.text, "Paris is sunny.");
}

/// A request that offers one tool, so calls are delivered.
fn request_with_tools() -> ChatRequest {
    ChatRequest {
        tools: vec![hearth_providers::ToolSpec {
            name: "get_weather".into(),
            description: "The weather in a city.".into(),
            parameters: serde_json::json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        }],
        ..request()
    }
}

#[test]
fn recorded_tool_call_streams_from_public_sdks_assemble_exactly_however_they_are_cut() {
    let dir = streams_dir().join("tools");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let rt = rt();
    for (file, want) in expected.as_object().unwrap() {
        let protocol = if file.starts_with("anthropic") {
            Protocol::Anthropic
        } else if file.starts_with("gemini") {
            Protocol::Gemini
        } else {
            Protocol::OpenAi
        };
        let bytes = std::fs::read(dir.join(file)).unwrap();
        for cut in [bytes.len(), 13, 1] {
            let chunks: Vec<Vec<u8>> = bytes.chunks(cut).map(<[u8]>::to_vec).collect();
            let fake = FakeProvider::always(Reply::sse(chunks));
            let got = rt.block_on(async {
                let http = Http::new().unwrap();
                let mut stream = start_chat(
                    &http,
                    &endpoint(&fake, protocol),
                    Some(KEY),
                    &request_with_tools(),
                    Duration::from_secs(5),
                )
                .await
                .unwrap();
                let mut out = Assembled::default();
                while let Some(item) = stream.next().await {
                    match item {
                        Ok(StreamEvent::Text(t)) => out.text.push_str(&t),
                        Ok(StreamEvent::ToolCall(c)) => out.calls.push(c),
                        Ok(_) => {}
                        Err(e) => out.error = Some(e),
                    }
                }
                out
            });
            assert!(got.error.is_none(), "{file} cut {cut}: {got:?}");
            assert_eq!(got.text, want["text"].as_str().unwrap(), "{file} cut {cut}");
            let calls = want["calls"].as_array().unwrap();
            assert_eq!(got.calls.len(), calls.len(), "{file} cut {cut}: {got:?}");
            for (call, want) in got.calls.iter().zip(calls) {
                assert_eq!(call.name, want["name"].as_str().unwrap(), "{file}");
                assert_eq!(call.id, want["id"].as_str().unwrap_or(""), "{file}");
                assert_eq!(
                    call.signature.as_deref(),
                    want["signature"].as_str(),
                    "{file}"
                );
                let arguments = want["arguments"].as_str().unwrap();
                if protocol == Protocol::Gemini {
                    // Gemini sends an object, which Hearth writes back as JSON text.
                    let a: serde_json::Value = serde_json::from_str(&call.arguments).unwrap();
                    let b: serde_json::Value = serde_json::from_str(arguments).unwrap();
                    assert_eq!(a, b, "{file}");
                } else {
                    assert_eq!(call.arguments, arguments, "{file} cut {cut}");
                }
            }
        }
    }
}

#[test]
fn tool_calls_and_results_go_back_in_each_protocols_own_shape() {
    let rt = rt();
    let call = hearth_providers::ToolCall {
        id: "call_9".into(),
        name: "get_weather".into(),
        arguments: r#"{"city":"Paris"}"#.into(),
        signature: Some("sig==".into()),
    };
    let mut req = request_with_tools();
    req.turns.push(ChatTurn {
        role: ChatRole::Assistant,
        text: "Checking.".into(),
        tool_calls: vec![call.clone()],
        ..Default::default()
    });
    req.turns.push(ChatTurn {
        role: ChatRole::User,
        tool_results: vec![hearth_providers::ToolResult {
            id: "call_9".into(),
            name: "get_weather".into(),
            content: "sunny".into(),
            is_error: true,
        }],
        ..Default::default()
    });
    for protocol in [Protocol::OpenAi, Protocol::Anthropic, Protocol::Gemini] {
        let fake = FakeProvider::always(Reply::sse_fixture(match protocol {
            Protocol::OpenAi => "openai-basic.sse",
            Protocol::Anthropic => "anthropic-basic.sse",
            Protocol::Gemini => "gemini-basic.sse",
        }));
        rt.block_on(async {
            let http = Http::new().unwrap();
            let mut s = start_chat(
                &http,
                &endpoint(&fake, protocol),
                Some(KEY),
                &req,
                Duration::from_secs(5),
            )
            .await
            .unwrap();
            while s.next().await.is_some() {}
        });
        let body = fake.requests()[0].json();
        match protocol {
            Protocol::OpenAi => {
                let m = body["messages"].as_array().unwrap();
                let n = m.len();
                assert_eq!(m[n - 2]["content"], "Checking.");
                assert_eq!(m[n - 2]["tool_calls"][0]["id"], "call_9");
                assert_eq!(
                    m[n - 2]["tool_calls"][0]["function"]["arguments"],
                    call.arguments
                );
                assert_eq!(
                    m[n - 1],
                    serde_json::json!({"role": "tool", "tool_call_id": "call_9", "content": "sunny"})
                );
                assert_eq!(body["tools"][0]["type"], "function");
            }
            Protocol::Anthropic => {
                let m = body["messages"].as_array().unwrap();
                let n = m.len();
                assert_eq!(
                    m[n - 2]["content"],
                    serde_json::json!([{"type": "text", "text": "Checking."},
                        {"type": "tool_use", "id": "call_9", "name": "get_weather", "input": {"city": "Paris"}}])
                );
                assert_eq!(
                    m[n - 1]["content"],
                    serde_json::json!([{"type": "tool_result", "tool_use_id": "call_9", "content": "sunny", "is_error": true}])
                );
                assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
            }
            Protocol::Gemini => {
                let c = body["contents"].as_array().unwrap();
                let n = c.len();
                assert_eq!(
                    c[n - 2]["parts"],
                    serde_json::json!([{"text": "Checking."},
                        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_9"}, "thoughtSignature": "sig=="}])
                );
                assert_eq!(
                    c[n - 1]["parts"],
                    serde_json::json!([{"functionResponse": {"name": "get_weather", "id": "call_9", "response": {"error": "sunny"}}}])
                );
                assert!(
                    body["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"].is_object()
                );
            }
        }
    }
}
