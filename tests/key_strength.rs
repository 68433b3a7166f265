//! Key strength is visible (issue 13): `key list` shows each key's KDF parameters, text and JSON, and
//! marks keys weaker than the default. (Weak keys unlock only in debug builds: see the unit test
//! `weak_keys_are_refused_unless_the_build_allows_them` in `src/identity/keyfile.rs`.)

mod common;

#[test]
fn key_list_shows_the_kdf_parameters() {
    let env = common::Env::new();
    // The tests' fast KDF (honoured by this debug binary only).
    env.ok(&["key", "new", "alice"]);
    // The default KDF.
    let out = env.cmd().env_remove("ROLLCALL_INSECURE_FAST_KDF").args(["key", "new", "bob"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let v = env.json(&["key", "list"]);
    let keys = v["keys"].as_array().unwrap();
    let kdf = |name: &str| keys.iter().find(|k| k["name"] == name).unwrap()["kdf"].clone();
    let a = kdf("alice");
    assert_eq!(
        (a["alg"].as_str(), a["m_kib"].as_u64(), a["t"].as_u64(), a["p"].as_u64()),
        (Some("argon2id"), Some(64), Some(1), Some(1))
    );
    assert_eq!(a["weak"], true);
    let b = kdf("bob");
    assert_eq!((b["m_kib"].as_u64(), b["t"].as_u64(), b["weak"].as_bool()), (Some(65536), Some(3), Some(false)));
    assert!(a.get("salt").is_none(), "the salt is not listed: {a}");

    let text = env.ok(&["key", "list"]);
    assert!(text.lines().next().unwrap().contains("KDF"), "{text}");
    let line = |name: &str| text.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{text}")).to_string();
    assert!(line("alice").contains("argon2id m=64KiB t=1 p=1 WEAK"), "{text}");
    assert!(line("bob").contains("argon2id m=65536KiB t=3 p=1"), "{text}");
    assert!(!line("bob").contains("WEAK"), "{text}");
}
