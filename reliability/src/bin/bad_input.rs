//! Bad input: every validated input across the crates, each sent through the public call that
//! would make the request. Goal: each gives a typed error (`ErrorKind::InvalidInput`) and the
//! emulator counted zero requests for it (`Faults::total`, every authenticated request). The
//! table is one row per case; rows marked "pending" wait for features on other branches.
//! `--quick` runs the same table (it takes well under a second).

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_smithy_types::retry::RetryConfig;
use tigris_agent_kit::{AgentKit, MAX_FORKS, NotificationConfig, Role};
use tigris_core::ErrorKind;
use tigris_headers::query::MetadataQuery;
use tigris_test_support::{Emulator, root_sdk_config};

struct Row {
    input: String,
    api: &'static str,
    got: Option<ErrorKind>,
    requests: u64,
}

/// A parse error of a typed setting (a region name), counted as `InvalidInput`.
struct InvalidSetting;

impl InvalidSetting {
    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidInput
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    let quick = tigris_reliability::quick();
    println!("## Bad input\n");
    println!(
        "`cargo run --release -p tigris-reliability --bin bad_input{}`: each validated input \
         through the public call that would send it, against an in-process emulator with an \
         existing workspace `bad-input-ws`; \"requests\" is the emulator's count of every \
         authenticated request during the call (`Faults::total`). Goal: `InvalidInput` and 0 \
         requests in every row.\n",
        if quick { " -- --quick" } else { "" }
    );
    match run().await {
        Ok(rows) => {
            println!("| input | call | error kind | requests |\n|---|---|---|---|");
            let mut missed = 0;
            for row in &rows {
                let ok = row.got == Some(ErrorKind::InvalidInput) && row.requests == 0;
                if !ok {
                    missed += 1;
                }
                println!(
                    "| {} | `{}` | {} | {}{} |",
                    row.input.replace('|', "\\|"),
                    row.api,
                    row.got.map_or("accepted".to_owned(), |k| format!("{k:?}")),
                    row.requests,
                    if ok { "" } else { " **(goal missed)**" }
                );
            }
            for (input, why) in PENDING {
                println!("| {input} | {why} | pending | pending |");
            }
            println!(
                "\n{} cases, {} with `InvalidInput` and 0 requests; {} pending.",
                rows.len(),
                rows.len() - missed,
                PENDING.len()
            );
            println!(
                "\n`Pull::concurrency(0)` and `Pull::batch_size(0)` are clamped to 1 by design \
                 (documented), so they have no row. Region names are refused by their parser \
                 (`InvalidSetting`, counted here as `InvalidInput`): a bad one cannot reach \
                 `update_bucket`."
            );
            if missed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(err) => {
            println!("**The run could not complete:** {err}");
            ExitCode::FAILURE
        }
    }
}

/// Inputs not yet covered by a row, with why (none today).
const PENDING: &[(&str, &str)] = &[];

async fn run() -> Result<Vec<Row>, BoxError> {
    let emu = Emulator::start().await?;
    let sdk = root_sdk_config(&emu, RetryConfig::disabled());
    let kit = AgentKit::builder(&sdk)
        .iam_endpoint(emu.endpoint())
        .build()?;
    let transport = tigris_api::Client::new(&sdk)?;
    let ws = kit
        .create_workspace()
        .bucket("bad-input-ws")
        .credentials(Role::Editor)
        .send()
        .await?;
    let bucket = ws.bucket().clone();
    let mut rows = Vec::new();
    let now = SystemTime::now();

    /// Runs one case: the call's error kind (None when it was accepted) and the requests it
    /// made, as a row of `rows`.
    macro_rules! case {
        ($input:expr, $api:expr, $call:expr) => {{
            let before = emu.faults().total();
            let got = match $call {
                Ok(_) => None,
                Err(e) => Some(e.kind()),
            };
            rows.push(Row {
                input: $input.to_string(),
                api: $api,
                got,
                requests: emu.faults().total() - before,
            });
        }};
    }

    // Bucket names, one per Tigris rule, through the call that would create the bucket.
    let long = "a".repeat(64);
    for (name, rule) in [
        ("ab", "shorter than 3"),
        (long.as_str(), "longer than 63"),
        ("", "empty"),
        ("My-Bucket", "uppercase"),
        ("under_score", "other characters"),
        ("-abc", "starts with '-'"),
        ("abc.", "ends with '.'"),
        ("a..b", "two adjacent periods"),
        ("xn--abc", "prefix xn--"),
        ("abc-s3alias", "suffix -s3alias"),
        ("192.168.1.1", "an IP address"),
    ] {
        case!(
            format!("bucket name `{name}` ({rule})"),
            "AgentKit::create_workspace().bucket(..).send()",
            kit.create_workspace().bucket(name).send().await
        );
    }
    case!(
        "fork base `Bad_Base`",
        "AgentKit::create_forks().base(..).count(..).send()",
        kit.create_forks().base("Bad_Base").count(2).send().await
    );
    case!(
        "checkpoint of bucket `a..b`",
        "AgentKit::checkpoint().bucket(..).send()",
        kit.checkpoint().bucket("a..b").send().await
    );
    case!(
        "restore from bucket `ab`",
        "AgentKit::restore().bucket(..).version(..).send()",
        kit.restore().bucket("ab").version("1").send().await
    );
    case!(
        "diff of fork `UPPER`",
        "AgentKit::diff().fork(..).send()",
        kit.diff().fork("UPPER").send().await
    );
    case!(
        "merge of fork `-x-`",
        "AgentKit::merge().fork(..).send()",
        kit.merge().fork("-x-").send().await
    );
    case!(
        "pull of bucket `xn--p`",
        "AgentKit::pull().bucket(..).destination(..).send()",
        kit.pull()
            .bucket("xn--p")
            .destination(std::env::temp_dir().join("bad-input-pull"))
            .send()
            .await
    );
    // set_notifications takes a BucketName (AsBucket): a bad name does not compile.

    // Fork names.
    let base60 = format!("{}-ws", "b".repeat(57));
    case!(
        "default fork names past 63 characters (base of 60)",
        "AgentKit::create_forks().base(..).count(..).send()",
        kit.create_forks().base(&base60).count(2).send().await
    );
    case!(
        format!(
            "fork prefix of 62 + `-{{i}}` suffix past 63 (`{}`)",
            "p".repeat(62).len()
        ),
        "CreateForks::prefix(..).send()",
        kit.create_forks()
            .base(bucket.as_str())
            .count(10)
            .prefix("p".repeat(62))
            .send()
            .await
    );
    case!(
        "fork prefix `Bad_Prefix`",
        "CreateForks::prefix(..).send()",
        kit.create_forks()
            .base(bucket.as_str())
            .count(1)
            .prefix("Bad_Prefix")
            .send()
            .await
    );
    case!(
        "restore into fork name `a..b`",
        "Restore::fork_name(..).send()",
        kit.restore()
            .bucket(bucket.as_str())
            .version("1")
            .fork_name("a..b")
            .send()
            .await
    );

    // Snapshot names and versions.
    for (name, what) in [
        ("", "empty"),
        ("a;b", "';'"),
        ("k=v", "'='"),
        ("line\nbreak", "a newline"),
        ("tab\there", "a tab"),
        ("nul\0", "NUL"),
        (" padded", "leading whitespace"),
    ] {
        case!(
            format!("checkpoint name with {what}"),
            "CreateCheckpoint::name(..).send()",
            kit.checkpoint()
                .bucket(bucket.as_str())
                .name(name)
                .send()
                .await
        );
    }
    let long_name = "n".repeat(129);
    case!(
        "checkpoint name of 129 characters",
        "CreateCheckpoint::name(..).send()",
        kit.checkpoint()
            .bucket(bucket.as_str())
            .name(&long_name)
            .send()
            .await
    );
    for (version, what) in [
        ("abc", "not digits"),
        ("", "empty"),
        ("-1", "negative"),
        ("99999999999999999999999", "past u64"),
    ] {
        case!(
            format!("snapshot version `{version}` ({what})"),
            "AgentKit::restore().bucket(..).version(..).send()",
            kit.restore()
                .bucket(bucket.as_str())
                .version(version)
                .send()
                .await
        );
    }
    case!(
        "fork snapshot version `12x`",
        "CreateForks::from_snapshot(..).send()",
        kit.create_forks()
            .base(bucket.as_str())
            .count(1)
            .from_snapshot("12x")
            .send()
            .await
    );

    // Counts and sizes.
    case!(
        "fork count 0",
        "AgentKit::create_forks().base(..).count(..).send()",
        kit.create_forks()
            .base(bucket.as_str())
            .count(0)
            .send()
            .await
    );
    case!(
        format!("fork count {}", MAX_FORKS + 1),
        "AgentKit::create_forks().base(..).count(..).send()",
        kit.create_forks()
            .base(bucket.as_str())
            .count(MAX_FORKS + 1)
            .send()
            .await
    );
    case!(
        "fork concurrency 0",
        "CreateForks::concurrency(0).send()",
        kit.create_forks()
            .base(bucket.as_str())
            .count(1)
            .concurrency(0)
            .send()
            .await
    );
    case!(
        "diff page size 0",
        "DiffFork::page_size(0).send()",
        kit.diff().fork(bucket.as_str()).page_size(0).send().await
    );
    // Pull::concurrency and Pull::batch_size clamp (to at least 1, at most 5,000): documented, no error.

    // TTLs.
    case!(
        "workspace TTL 0 days",
        "CreateWorkspace::ttl_days(0).send()",
        kit.create_workspace()
            .bucket("bad-input-ttl")
            .ttl_days(0)
            .send()
            .await
    );
    case!(
        format!("workspace TTL {} days (past i32)", u32::MAX),
        "CreateWorkspace::ttl_days(..).send()",
        kit.create_workspace()
            .bucket("bad-input-ttl")
            .ttl_days(u32::MAX)
            .send()
            .await
    );

    // Credentials expiry.
    let past = now - Duration::from_secs(60);
    case!(
        "workspace key expiry in the past",
        "CreateWorkspace::credentials_expire_at(..).send()",
        kit.create_workspace()
            .bucket("bad-input-exp")
            .credentials(Role::Editor)
            .credentials_expire_at(past)
            .send()
            .await
    );
    case!(
        "workspace expiry without credentials",
        "CreateWorkspace::credentials_expire_at(..).send()",
        kit.create_workspace()
            .bucket("bad-input-exp")
            .credentials_expire_at(now + Duration::from_secs(3600))
            .send()
            .await
    );
    case!(
        "fork key expiry within this second",
        "CreateForks::credentials_expire_at(..).send()",
        kit.create_forks()
            .base(bucket.as_str())
            .count(1)
            .credentials(Role::Editor)
            .credentials_expire_at(now)
            .send()
            .await
    );
    case!(
        "fork expiry without credentials",
        "CreateForks::credentials_expire_at(..).send()",
        kit.create_forks()
            .base(bucket.as_str())
            .count(1)
            .credentials_expire_at(now + Duration::from_secs(3600))
            .send()
            .await
    );
    let iam = kit.iam();
    case!(
        "scoped key expiry at the epoch",
        "CreateScopedKey::expires_at(..).send()",
        iam.create_scoped_key()
            .name("k")
            .bucket(bucket.clone())
            .expires_at(UNIX_EPOCH)
            .send()
            .await
    );
    case!(
        "scoped key expiry 10,000 years ahead",
        "CreateScopedKey::expires_at(..).send()",
        iam.create_scoped_key()
            .name("k")
            .bucket(bucket.clone())
            .expires_at(now + Duration::from_secs(10_000 * 365 * 86_400))
            .send()
            .await
    );

    // Scoped keys.
    case!(
        "scoped key without a name",
        "CreateScopedKey::send()",
        iam.create_scoped_key().bucket(bucket.clone()).send().await
    );
    case!(
        "scoped key with an empty name",
        "CreateScopedKey::name(\"\").send()",
        iam.create_scoped_key()
            .name("")
            .bucket(bucket.clone())
            .send()
            .await
    );
    case!(
        "scoped key name with a space",
        "CreateScopedKey::name(..).send()",
        iam.create_scoped_key()
            .name("two words")
            .bucket(bucket.clone())
            .send()
            .await
    );
    case!(
        "scoped key name of 200 characters",
        "CreateScopedKey::name(..).send()",
        iam.create_scoped_key()
            .name("k".repeat(200))
            .bucket(bucket.clone())
            .send()
            .await
    );
    case!(
        "scoped key without buckets",
        "CreateScopedKey::send()",
        iam.create_scoped_key().name("k").send().await
    );

    // Keys with bucket roles (Tigris's own IAM action).
    case!(
        "key with bucket roles without a name",
        "CreateKeyWithBucketRoles::send()",
        iam.create_key_with_bucket_roles()
            .bucket_role(bucket.clone(), Role::Editor)
            .send()
            .await
    );
    case!(
        "key with bucket roles without any bucket role",
        "CreateKeyWithBucketRoles::send()",
        iam.create_key_with_bucket_roles().name("k").send().await
    );
    case!(
        "key with bucket roles, one bucket given two roles",
        "CreateKeyWithBucketRoles::bucket_role(..).send()",
        iam.create_key_with_bucket_roles()
            .name("k")
            .bucket_role(bucket.clone(), Role::Editor)
            .bucket_role(bucket.clone(), Role::ReadOnly)
            .send()
            .await
    );
    case!(
        "key with bucket roles, name with a space",
        "CreateKeyWithBucketRoles::name(..).send()",
        iam.create_key_with_bucket_roles()
            .name("two words")
            .bucket_role(bucket.clone(), Role::ReadOnly)
            .send()
            .await
    );
    case!(
        "delete_key with an empty id",
        "TigrisIam::delete_key(\"\")",
        iam.delete_key("").await
    );

    // Webhook URLs and auth.
    for (url, what) in [
        ("", "empty"),
        (" http://h/", "leading space"),
        ("not a url", "not a URL"),
        ("ftp://h/", "ftp scheme"),
        ("file:///etc/passwd", "no host"),
    ] {
        case!(
            format!("webhook URL `{url}` ({what})"),
            "NotificationConfigBuilder::build()",
            NotificationConfig::builder(url).build()
        );
    }
    case!(
        "webhook filter of whitespace",
        "NotificationConfigBuilder::filter(..).build()",
        NotificationConfig::builder("http://h/")
            .filter("  ")
            .build()
    );
    case!(
        "webhook token empty",
        "NotificationConfigBuilder::token(\"\").build()",
        NotificationConfig::builder("http://h/").token("").build()
    );
    case!(
        "webhook token with a newline",
        "NotificationConfigBuilder::token(..).build()",
        NotificationConfig::builder("http://h/")
            .token("a\nb")
            .build()
    );
    case!(
        "token and username/password together",
        "NotificationConfigBuilder::build()",
        NotificationConfig::builder("http://h/")
            .token("t")
            .username("u")
            .password("p")
            .build()
    );
    case!(
        "webhook username with ':'",
        "NotificationConfigBuilder::username(..).password(..).build()",
        NotificationConfig::builder("http://h/")
            .username("a:b")
            .password("p")
            .build()
    );
    case!(
        "webhook username without a password",
        "NotificationConfigBuilder::username(..).build()",
        NotificationConfig::builder("http://h/")
            .username("u")
            .build()
    );
    case!(
        "webhook password empty",
        "NotificationConfigBuilder::username(..).password(..).build()",
        NotificationConfig::builder("http://h/")
            .username("u")
            .password(" ")
            .build()
    );

    // Leases and task queues: TTLs from 1 s to 1 day.
    for (ttl, what) in [
        (Duration::ZERO, "zero"),
        (Duration::from_millis(500), "below 1 s"),
        (Duration::from_secs(2 * 86_400), "above 1 day"),
    ] {
        case!(
            format!("lease TTL {ttl:?} ({what})"),
            "AgentKit::lease().bucket(..).key(..).ttl(..).acquire()",
            kit.lease()
                .bucket(bucket.as_str())
                .key("locks/l")
                .ttl(ttl)
                .acquire()
                .await
        );
        case!(
            format!("task-queue claim TTL {ttl:?} ({what})"),
            "AgentKit::task_queue().bucket(..).ttl(..).open()",
            kit.task_queue()
                .bucket(bucket.as_str())
                .prefix("queue/")
                .ttl(ttl)
                .open()
        );
    }

    // Regions and bucket settings: names are parsed into types, a builder sends only what is set.
    for (regions, what) in [
        ("mars", "not a Tigris region"),
        ("iad,iad", "the same region twice"),
        ("iad,sjc,fra", "more than two regions"),
        ("usa,iad", "a multi-region area in a pair"),
    ] {
        let parsed = regions.parse::<tigris_headers::bucket_settings::Regions>();
        case!(
            format!("regions `{regions}` ({what})"),
            "Regions::from_str (then update_bucket(..).regions(..))",
            parsed.map_err(|_| InvalidSetting)
        );
    }
    case!(
        "update_bucket with nothing set",
        "tigris_api::Client::update_bucket(..).send()",
        transport
            .update_bucket()
            .bucket(bucket.as_str())
            .send()
            .await
    );
    case!(
        "update_bucket with cache control `a\\nb`",
        "tigris_api::Client::update_bucket(..).cache_control(..).send()",
        transport
            .update_bucket()
            .bucket(bucket.as_str())
            .cache_control("a\nb")
            .send()
            .await
    );

    // Shadow buckets and migration.
    let own_endpoint = emu.endpoint();
    for (what, endpoint, source, key, secret) in [
        ("no source bucket", "http://127.0.0.1:1", "", "AK", "SK"),
        (
            "source bucket `a/b`",
            "http://127.0.0.1:1",
            "a/b",
            "AK",
            "SK",
        ),
        ("no endpoint", "", "src", "AK", "SK"),
        (
            "endpoint `s3.example.com` (no scheme)",
            "s3.example.com",
            "src",
            "AK",
            "SK",
        ),
        (
            "endpoint with a path",
            "https://s3.example.com/bucket",
            "src",
            "AK",
            "SK",
        ),
        (
            "a Tigris endpoint",
            "https://t3.storage.dev",
            "src",
            "AK",
            "SK",
        ),
        ("its own endpoint", own_endpoint.as_str(), "src", "AK", "SK"),
        ("no access key id", "http://127.0.0.1:1", "src", "", "SK"),
        ("no secret", "http://127.0.0.1:1", "src", "AK", ""),
        (
            "a secret with a space",
            "http://127.0.0.1:1",
            "src",
            "AK",
            "S K",
        ),
    ] {
        case!(
            format!("set_shadow_bucket with {what}"),
            "tigris_api::Client::set_shadow_bucket(..).send()",
            transport
                .set_shadow_bucket()
                .bucket(bucket.as_str())
                .source_bucket(source)
                .endpoint(endpoint)
                .credentials(key, secret)
                .send()
                .await
        );
    }
    case!(
        "clear_shadow_bucket of bucket `Bad_Name`",
        "tigris_api::Client::clear_shadow_bucket(..).send()",
        transport
            .clear_shadow_bucket()
            .bucket("Bad_Name")
            .send()
            .await
    );
    case!(
        "migrate with a 1025-byte prefix",
        "tigris_api::Client::migrate(..).send()",
        transport
            .migrate()
            .bucket(bucket.as_str())
            .prefix("p".repeat(1025))
            .send()
            .await
    );
    case!(
        "migrate with a concurrency of 0",
        "tigris_api::Client::migrate(..).send()",
        transport
            .migrate()
            .bucket(bucket.as_str())
            .concurrency(0)
            .send()
            .await
    );
    case!(
        "migration_status of no bucket",
        "tigris_api::Client::migration_status(..).send()",
        transport.migration_status().send().await
    );
    case!(
        "object_migrated with an empty key",
        "tigris_api::Client::object_migrated(..).send()",
        transport
            .object_migrated()
            .bucket(bucket.as_str())
            .send()
            .await
    );

    // Metadata queries.
    for (query, what) in [
        ("DROP TABLE x", "not a WHERE/ORDER BY"),
        ("WHERE", "no condition"),
        ("WHERE `key` = ", "no value"),
        ("WHERE `nope` = \"x\"", "unknown field"),
        ("WHERE `key` REGEXP \"(\"", "bad regular expression"),
        (
            "WHERE `key` = \"a\" OR `key` = \"b\"",
            "OR, which Tigris lacks",
        ),
        ("WHERE `key` IN (\"a\"", "an unclosed IN list"),
        ("", "empty"),
    ] {
        case!(
            format!("query `{query}` ({what})"),
            "MetadataQuery::from_str",
            query.parse::<MetadataQuery>()
        );
    }

    // Bundles.
    case!(
        "bundle with no keys",
        "tigris_api::Client::bundle(..).send()",
        transport.bundle().bucket(bucket.as_str()).send().await
    );
    case!(
        "bundle with an empty key",
        "tigris_api::Client::bundle(..).send()",
        transport
            .bundle()
            .bucket(bucket.as_str())
            .key("a")
            .key("")
            .send()
            .await
    );
    case!(
        format!("bundle of {} keys", tigris_api::bundle::MAX_KEYS + 1),
        "tigris_api::Client::bundle(..).send()",
        transport
            .bundle()
            .bucket(bucket.as_str())
            .keys((0..=tigris_api::bundle::MAX_KEYS).map(|i| format!("k{i}")))
            .send()
            .await
    );
    case!(
        "bundle past the request-size limit",
        "tigris_api::Client::bundle(..).send()",
        transport
            .bundle()
            .bucket(bucket.as_str())
            .keys((0..4_900).map(|i| format!("{i}-{}", "k".repeat(1_100))))
            .send()
            .await
    );
    case!(
        "bundle of bucket `B`",
        "tigris_api::Client::bundle(..).send()",
        transport.bundle().bucket("B").key("a").send().await
    );

    // Presigned URLs and forms.
    case!(
        "presigned URL for an empty key",
        "tigris_api::Client::presign_url(..).send()",
        transport
            .presign_url()
            .bucket(bucket.as_str())
            .key("")
            .send()
            .await
    );
    case!(
        "presigned URL for a 1,025-byte key",
        "tigris_api::Client::presign_url(..).send()",
        transport
            .presign_url()
            .bucket(bucket.as_str())
            .key("k".repeat(1025))
            .send()
            .await
    );
    case!(
        "presigned URL expiring in 0 s",
        "PresignUrlFluentBuilder::expires_in(0).send()",
        transport
            .presign_url()
            .bucket(bucket.as_str())
            .key("k")
            .expires_in(Duration::ZERO)
            .send()
            .await
    );
    case!(
        "presigned URL expiring in 91 days",
        "PresignUrlFluentBuilder::expires_in(..).send()",
        transport
            .presign_url()
            .bucket(bucket.as_str())
            .key("k")
            .expires_in(Duration::from_secs(91 * 86_400))
            .send()
            .await
    );
    case!(
        "presigned PUT at a snapshot",
        "PresignUrlFluentBuilder::put().at_snapshot(..).send()",
        transport
            .presign_url()
            .bucket(bucket.as_str())
            .key("k")
            .put()
            .at_snapshot("1")
            .send()
            .await
    );
    case!(
        "presigned GET at snapshot `x`",
        "PresignUrlFluentBuilder::at_snapshot(..).send()",
        transport
            .presign_url()
            .bucket(bucket.as_str())
            .key("k")
            .at_snapshot("x")
            .send()
            .await
    );
    case!(
        "presigned URL for bucket `a..b`",
        "tigris_api::Client::presign_url(..).send()",
        transport.presign_url().bucket("a..b").key("k").send().await
    );
    case!(
        "presigned POST for bucket `Up`",
        "tigris_api::Client::presigned_post().send()",
        transport
            .presigned_post()
            .bucket("Up")
            .key("k")
            .send()
            .await
    );
    case!(
        "presigned POST expiring in 0 s",
        "tigris_api::Client::presigned_post().expires_in(0).send()",
        transport
            .presigned_post()
            .bucket(bucket.as_str())
            .key("k")
            .expires_in(Duration::ZERO)
            .send()
            .await
    );
    case!(
        "presigned POST length range 10..1",
        "tigris_api::Client::presigned_post().content_length_range(10, 1).send()",
        transport
            .presigned_post()
            .bucket(bucket.as_str())
            .key("k")
            .content_length_range(10, 1)
            .send()
            .await
    );
    case!(
        "presigned POST for an empty key",
        "tigris_api::Client::presigned_post().send()",
        transport
            .presigned_post()
            .bucket(bucket.as_str())
            .key("")
            .send()
            .await
    );

    // CORS rules (tigris_api::cors).
    use tigris_api::set_cors::CorsRule;
    let any = || CorsRule::new().allowed_origin("*").allowed_methods(["GET"]);
    for (input, rule) in [
        (
            "CORS rule without an origin",
            CorsRule::new().allowed_methods(["GET"]),
        ),
        (
            "CORS rule without a method",
            CorsRule::new().allowed_origin("*"),
        ),
        (
            "CORS origin with two `*`",
            CorsRule::new()
                .allowed_origin("https://*.*.example.com")
                .allowed_methods(["GET"]),
        ),
        (
            "CORS origin with a space",
            CorsRule::new()
                .allowed_origin("https://a b")
                .allowed_methods(["GET"]),
        ),
        (
            "CORS `*` origin with another",
            any().allowed_origin("https://a.example"),
        ),
        (
            "CORS method `FETCH`",
            CorsRule::new()
                .allowed_origin("*")
                .allowed_methods(["FETCH"]),
        ),
        (
            "CORS allowed header `bad header`",
            any().allowed_header("bad header"),
        ),
        ("CORS exposed header `x-*`", any().expose_header("x-*")),
        ("CORS max age 0 s", any().max_age(Duration::ZERO)),
    ] {
        case!(
            input,
            "tigris_api::Client::set_cors().rule(..).send()",
            transport
                .set_cors()
                .bucket(bucket.as_str())
                .rule(rule)
                .send()
                .await
        );
    }
    case!(
        "CORS with no rule",
        "tigris_api::Client::set_cors().send()",
        transport.set_cors().bucket(bucket.as_str()).send().await
    );
    case!(
        "CORS with 101 rules",
        "tigris_api::Client::set_cors().rules(..).send()",
        transport
            .set_cors()
            .bucket(bucket.as_str())
            .rules(std::iter::repeat_n(any(), 101))
            .send()
            .await
    );
    case!(
        "CORS read of bucket `a..b`",
        "tigris_api::Client::get_cors().send()",
        transport.get_cors().bucket("a..b").send().await
    );
    case!(
        "CORS clear of bucket `B`",
        "tigris_api::Client::clear_cors().send()",
        transport.clear_cors().bucket("B").send().await
    );

    // Lifecycle rules (tigris_api::lifecycle).
    use tigris_api::set_lifecycle_rules::{LifecycleRule, When};
    use tigris_headers::bucket_settings::StorageClass;
    let ttl = || LifecycleRule::new().expiration(When::Days(1));
    for (input, rule) in [
        (
            "lifecycle rule with neither expiry nor transition",
            LifecycleRule::new(),
        ),
        (
            "lifecycle expiry after 0 days",
            LifecycleRule::new().expiration(When::Days(0)),
        ),
        (
            "lifecycle transition after 0 days",
            LifecycleRule::new().transition(StorageClass::Glacier, When::Days(0)),
        ),
        (
            "lifecycle transition to STANDARD",
            LifecycleRule::new().transition(StorageClass::Standard, When::Days(1)),
        ),
        ("lifecycle rule with an empty prefix", ttl().prefix("")),
        (
            "lifecycle rule id of 37 characters",
            ttl().with_id("i".repeat(37)),
        ),
        ("lifecycle rule with an empty id", ttl().with_id("")),
    ] {
        case!(
            input,
            "tigris_api::Client::set_lifecycle_rules().rule(..).send()",
            transport
                .set_lifecycle_rules()
                .bucket(bucket.as_str())
                .rule(rule)
                .send()
                .await
        );
    }
    case!(
        "lifecycle rule id used twice",
        "tigris_api::Client::set_lifecycle_rules().rules(..).send()",
        transport
            .set_lifecycle_rules()
            .bucket(bucket.as_str())
            .rules([ttl().with_id("same"), ttl().with_id("same")])
            .send()
            .await
    );
    case!(
        "11 lifecycle rules",
        "tigris_api::Client::set_lifecycle_rules().rules(..).send()",
        transport
            .set_lifecycle_rules()
            .bucket(bucket.as_str())
            .rules((0..11).map(|_| ttl()))
            .send()
            .await
    );
    case!(
        "lifecycle date `2027-02-30`",
        "\"..\".parse::<LifecycleDate>()",
        "2027-02-30".parse::<tigris_api::set_lifecycle_rules::LifecycleDate>()
    );
    case!(
        "lifecycle read of bucket `ab`",
        "tigris_api::Client::get_lifecycle_rules().send()",
        transport.get_lifecycle_rules().bucket("ab").send().await
    );

    // Object and bucket access.
    use tigris_headers::bucket_settings::Access;
    case!(
        "object access with no access given",
        "tigris_api::Client::set_object_access().send()",
        transport
            .set_object_access()
            .bucket(bucket.as_str())
            .key("k")
            .send()
            .await
    );
    case!(
        "object access for an empty key",
        "tigris_api::Client::set_object_access().send()",
        transport
            .set_object_access()
            .bucket(bucket.as_str())
            .key("")
            .access(Access::Public)
            .send()
            .await
    );
    case!(
        "object access read of a 1025-byte key",
        "tigris_api::Client::get_object_access().send()",
        transport
            .get_object_access()
            .bucket(bucket.as_str())
            .key("k".repeat(1025))
            .send()
            .await
    );
    case!(
        "bucket access with no access given",
        "tigris_api::Client::set_bucket_access().send()",
        transport
            .set_bucket_access()
            .bucket(bucket.as_str())
            .send()
            .await
    );
    case!(
        "bucket access read of bucket `My-Bucket`",
        "tigris_api::Client::get_bucket_access().send()",
        transport
            .get_bucket_access()
            .bucket("My-Bucket")
            .send()
            .await
    );

    // Presigned multipart uploads.
    let create = || {
        transport
            .create_presigned_multipart_upload()
            .bucket(bucket.as_str())
            .key("big")
    };
    case!(
        "presigned multipart upload of 0 parts",
        "tigris_api::Client::create_presigned_multipart_upload().send()",
        create().send().await
    );
    case!(
        "presigned multipart upload of 10,001 parts",
        "tigris_api::Client::create_presigned_multipart_upload().parts(..).send()",
        create().parts(10_001).send().await
    );
    case!(
        "part URLs valid for 8 days",
        "tigris_api::Client::create_presigned_multipart_upload().expires_in(..).send()",
        create()
            .parts(1)
            .expires_in(Duration::from_secs(8 * 24 * 3600))
            .send()
            .await
    );
    case!(
        "presigned multipart content type with a newline",
        "tigris_api::Client::create_presigned_multipart_upload().content_type(..).send()",
        create().parts(1).content_type("a\nb").send().await
    );
    case!(
        "part URLs for part 0",
        "tigris_api::Client::presign_upload_parts().send()",
        transport
            .presign_upload_parts()
            .bucket(bucket.as_str())
            .key("big")
            .upload_id("u")
            .part_numbers([0])
            .send()
            .await
    );
    case!(
        "part URLs without an upload id",
        "tigris_api::Client::presign_upload_parts().send()",
        transport
            .presign_upload_parts()
            .bucket(bucket.as_str())
            .key("big")
            .part_numbers([1])
            .send()
            .await
    );
    case!(
        "multipart completion with part 1 twice",
        "tigris_api::Client::complete_multipart_upload().send()",
        transport
            .complete_multipart_upload()
            .bucket(bucket.as_str())
            .key("big")
            .upload_id("u")
            .parts([(1, "\"a\""), (1, "\"b\"")])
            .send()
            .await
    );
    case!(
        "multipart completion with an empty ETag",
        "tigris_api::Client::complete_multipart_upload().send()",
        transport
            .complete_multipart_upload()
            .bucket(bucket.as_str())
            .key("big")
            .upload_id("u")
            .part(1, "\"\"")
            .send()
            .await
    );
    case!(
        "multipart completion with no part",
        "tigris_api::Client::complete_multipart_upload().send()",
        transport
            .complete_multipart_upload()
            .bucket(bucket.as_str())
            .key("big")
            .upload_id("u")
            .send()
            .await
    );
    case!(
        "multipart abort without an upload id",
        "tigris_api::Client::abort_multipart_upload().send()",
        transport
            .abort_multipart_upload()
            .bucket(bucket.as_str())
            .key("big")
            .send()
            .await
    );

    ws.teardown().await?;
    emu.shutdown().await;
    Ok(rows)
}
