//! Blast radius: what a leaked key can do, as a tier. From live read-only IAM calls made with the
//! key itself (`--verify --blast-radius`, against moto with authentication enforced), from the
//! `get-account-authorization-details` export that moto produces, and from an export checked in
//! under `tests/data/` with no network at all.

use std::path::Path;

use serde_json::Value;

use crate::moto::{Moto, credentials_file, finding_at};
use crate::util::{ACCOUNT, Fakes, TestCommand, TestDir};

const USERS: [&str; 6] = ["admin", "escalator", "escalator-reader", "data", "reader", "silent"];

fn blast<'a>(report: &'a Value, path: &str) -> &'a Value {
    let finding = finding_at(report, path);
    assert!(finding.get("blast_radius").is_some(), "no blast_radius in {finding:#}");
    &finding["blast_radius"]
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().map_or_else(Vec::new, |a| {
        a.iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect()
    })
}

/// Plants every moto user's key in `USER.ini` and scans with `args`.
fn scan_world(
    moto: &Moto,
    world: &crate::moto::World,
    args: &[&str],
) -> (crate::util::Output, Value) {
    let dir = TestDir::new();
    for name in USERS {
        let user = world.user(name);
        dir.create(&format!("{name}.ini"), credentials_file(&user.key_id, &user.secret, None));
    }
    let mut cmd = TestCommand::new();
    cmd.current_dir(dir.path())
        .args(["scan", ".", "-f", "json", "--no-progress", "--verify", "--sts-endpoint"])
        .arg(moto.endpoint())
        .args(args);
    let (out, report) = cmd.run_json();
    out.assert_code(1);
    (out, report)
}

#[test]
fn live_reads_with_the_leaked_key() {
    let moto = Moto::start(3);
    let world_dir = TestDir::new();
    let world = moto.populate(world_dir.path());
    let (out, report) =
        scan_world(&moto, &world, &["--blast-radius", "--iam-endpoint", &moto.endpoint()]);

    let admin = blast(&report, "admin.ini");
    assert_eq!(admin["tier"], "admin", "{admin:#}\n{out}");
    assert_eq!(strings(&admin["services"]), ["*"]);
    assert_eq!(admin["sources"], serde_json::json!(["live"]));
    assert_eq!(admin["principal"], world.user("admin").arn.as_str());
    assert_eq!(finding_at(&report, "admin.ini")["severity"], "critical");

    let escalator = blast(&report, "escalator-reader.ini");
    assert_eq!(escalator["tier"], "privilege-escalation", "{escalator:#}");
    assert_eq!(strings(&escalator["tier_actions"]), ["iam:CreateAccessKey"]);
    assert_eq!(escalator["complete"], true);

    let data = blast(&report, "data.ini");
    assert_eq!(data["tier"], "data-access", "{data:#}");
    assert!(strings(&data["tier_actions"]).contains(&"s3:GetObject".to_string()));
    let group_policy = data["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "objects")
        .unwrap_or_else(|| panic!("the group's policy is listed: {data:#}"));
    assert_eq!(group_policy["kind"], "group-managed");
    assert_eq!(group_policy["via_group"], "data-readers");
    assert_eq!(group_policy["version"], "v2", "the default version, not the first");
    assert!(strings(&data["services"]).contains(&"s3".to_string()));

    let reader = blast(&report, "reader.ini");
    assert_eq!(reader["tier"], "read-only", "{reader:#}");
    assert!(strings(&reader["services"]).contains(&"ec2".to_string()));

    // No permission to read itself: that is the result, recorded, not an error.
    for name in ["silent", "escalator"] {
        let b = blast(&report, &format!("{name}.ini"));
        assert_eq!(b["tier"], "unknown", "{b:#}");
        assert_eq!(b["complete"], false);
        let gaps = strings(&b["could_not_read"]);
        assert!(gaps.contains(&"iam:ListUserPolicies: AccessDenied".to_string()), "{gaps:?}");
        assert!(gaps.contains(&"iam:GetUser: AccessDenied".to_string()), "{gaps:?}");
    }
    assert!(!out.stderr.contains("error"), "{out}");
}

#[test]
fn offline_from_the_moto_export() {
    let moto = Moto::start(3);
    let world_dir = TestDir::new();
    let world = moto.populate(world_dir.path());
    let export = world.authorization_details.to_str().unwrap().to_string();
    let (out, report) = scan_world(&moto, &world, &["--aws-iam", &export]);
    let tiers = [
        ("admin", "admin"),
        ("escalator", "privilege-escalation"),
        ("escalator-reader", "privilege-escalation"),
        ("data", "data-access"),
        ("reader", "read-only"),
    ];
    for (name, tier) in tiers {
        let b = blast(&report, &format!("{name}.ini"));
        assert_eq!(b["tier"], tier, "{name}: {b:#}\n{out}");
        assert_eq!(
            b["sources"],
            serde_json::json!(["export"]),
            "no live reads without --blast-radius"
        );
        assert_eq!(b["complete"], true, "{b:#}");
    }
    assert_eq!(strings(&blast(&report, "escalator.ini")["tier_actions"]), ["iam:CreateAccessKey"]);
    // A user without any policy can do nothing: nothing beyond read-only.
    assert_eq!(blast(&report, "silent.ini")["allowed_actions"], 0);
}

/// A `list-access-keys` export mapping `keys` to users.
fn access_keys_file(dir: &Path, keys: &[(&str, &str)]) -> String {
    let list: Vec<Value> = keys
        .iter()
        .map(|(id, user)| serde_json::json!({"UserName": user, "AccessKeyId": id, "Status": "Active"}))
        .collect();
    let path = dir.join("access-keys.json");
    std::fs::write(&path, serde_json::json!({"AccessKeyMetadata": list}).to_string()).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn offline_from_a_checked_in_export_without_any_network() {
    let export =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/iam-authorization-details.json");
    let mut fakes = Fakes::new(71);
    let dir = TestDir::new();
    let side = TestDir::new();
    let users = ["admin", "escalator", "data", "reader", "uploader", "stranger"];
    let mut keys = Vec::new();
    for user in users {
        let id = fakes.key_id("AKIA", ACCOUNT);
        dir.create(&format!("{user}.ini"), credentials_file(&id, &fakes.secret(), None));
        keys.push((id, user));
    }
    let pairs: Vec<(&str, &str)> = keys.iter().map(|(id, u)| (id.as_str(), *u)).collect();
    let access_keys = access_keys_file(side.path(), &pairs);
    let mut cmd = TestCommand::new();
    let (out, report) = cmd
        .current_dir(dir.path())
        .args(["scan", ".", "-f", "json", "--no-progress", "--aws-iam"])
        .arg(&export)
        .args(["--aws-access-keys", &access_keys])
        .run_json();
    out.assert_code(1);
    let tier =
        |user: &str| blast(&report, &format!("{user}.ini"))["tier"].as_str().unwrap().to_string();
    assert_eq!(tier("admin"), "admin", "AWS's AdministratorAccess is known without the export");
    assert_eq!(tier("escalator"), "privilege-escalation");
    assert_eq!(tier("data"), "data-access", "the group's default version (v2), not v1's iam:*");
    assert_eq!(tier("reader"), "read-only");
    assert_eq!(tier("uploader"), "write", "the explicit Deny takes s3:Get* away");
    let uploader = blast(&report, "uploader.ini");
    assert!(!strings(&uploader["tier_actions"]).iter().any(|a| a.starts_with("s3:Get")));
    assert!(strings(&uploader["tier_actions"]).iter().all(|a| a.starts_with("s3:")));
    assert!(strings(&uploader["tier_actions"]).contains(&"s3:AbortMultipartUpload".to_string()));
    // A user the export does not know.
    let stranger = blast(&report, "stranger.ini");
    assert_eq!(stranger["tier"], "unknown");
    assert!(strings(&stranger["could_not_read"])[0].contains("not in the IAM export"));
    assert_eq!(
        blast(&report, "escalator.ini")["principal"],
        "arn:aws:iam::123456789012:user/ci/escalator"
    );
    // Not verified, but an offline admin is critical all the same; nothing says `live`.
    let admin = finding_at(&report, "admin.ini");
    assert_eq!(admin["severity"], "critical");
    assert!(admin.get("verification").is_none());
    // Admin and escalation first.
    let first = report["findings"][0]["blast_radius"]["tier"].as_str().unwrap();
    assert_eq!(first, "admin", "{report:#}");
}
