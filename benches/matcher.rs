//! The matcher alone, on in-memory haystacks, with the full built-in rule set: bytes per second.
//!
//! No I/O: every haystack is assembled in memory from a fixed seed before timing starts.
//!
//! - `source-code`: ~8 MB of realistic code in several languages, no secrets; about every
//!   24 KB a settings block names `postgres`, `redis` and `session_token` (keyword hits).
//! - `keyword-dense`: ~4 MB of text thick with rule keywords (`AKIA`, `secret_key`, `token`,
//!   `postgres`, `Asia`...) and a fake AWS key pair every ~200 lines, so confirmation and
//!   pairing run often.
//! - `minified-js`: a ~4 MB one-line bundle.
//! - `random-binary`: 4 MB of random bytes.
//!
//! Group `matcher` times `Matcher::scan`; group `prefilter` times stage 1 alone (the keyword
//! search) on the same haystacks, so the difference is what confirmation costs.
//!
//! `cargo bench --bench matcher` measures; `cargo test --all-targets` runs each benchmark once
//! on haystacks 1/64 the size, so it stays fast in a debug build.

use std::{hint::black_box, sync::Arc, time::Duration};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use keysweep::matcher::{Matcher, Scratch, prefilter::Prefilter};
use keysweep::rules::RuleSet;

/// splitmix64: a small deterministic generator, so haystacks are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn string(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| alphabet[self.below(alphabet.len())] as char).collect()
    }
}

/// Code templates; `@` is replaced by a running number so repeats are not identical.
const CODE: &[&str] = &[
    r#"use std::collections::HashMap;

/// Parses `key=value` lines into a map, skipping comments.
pub fn parse_env_@(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            out.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
        }
    }
    out
}
"#,
    r#"def fetch_page_@(session, url, params=None, retries=3):
    """Fetches one page of results, retrying on 5xx with exponential backoff."""
    for attempt in range(retries):
        response = session.get(url, params=params or {}, timeout=10)
        if response.status_code < 500:
            response.raise_for_status()
            return response.json()
        time.sleep(2 ** attempt)
    raise RuntimeError(f"giving up on {url} after {retries} attempts")
"#,
    r#"export function formatInvoice@(invoice, locale = "en-US") {
  const currency = new Intl.NumberFormat(locale, { style: "currency", currency: invoice.currency });
  const lines = invoice.items.map((item) => `${item.quantity} x ${item.name}: ${currency.format(item.total)}`);
  return [`Invoice #${invoice.number}`, ...lines, `Total: ${currency.format(invoice.total)}`].join("\n");
}
"#,
    r#"func (s *Server) handleHealth@(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}
"#,
    r#"    @Override
    public Optional<Customer> findById@(long id) {
        String sql = "SELECT id, name, email, created_at FROM customers WHERE id = ?";
        try (PreparedStatement stmt = connection.prepareStatement(sql)) {
            stmt.setLong(1, id);
            try (ResultSet rs = stmt.executeQuery()) {
                return rs.next() ? Optional.of(mapRow(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new DataAccessException("lookup failed for customer " + id, e);
        }
    }
"#,
    r#"static int ring_push_@(struct ring *r, const void *item, size_t len)
{
	if (len > r->slot_size || ring_full(r))
		return -EAGAIN;
	memcpy(r->buf + (r->head % r->slots) * r->slot_size, item, len);
	r->head++;
	return 0;
}
"#,
    r#"  - name: build-@
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
          cache: npm
      - run: npm ci && npm run build -- --mode production
"#,
];

/// Settings code with a few rule keywords (`postgres`, `redis`, `session_token`) but no
/// secret: one block in 40.
const CONFIG: &str = r#"DATABASES_@ = {
    "default": env.db("DATABASE_URL", default="postgres://localhost/app_dev"),
}
CACHES_@ = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": env("REDIS_URL")}}
SESSION_COOKIE_NAME = "session_token"
"#;

fn source_code(size: usize, rng: &mut Rng) -> Vec<u8> {
    let mut out = String::with_capacity(size + 4096);
    let mut n = 0usize;
    while out.len() < size {
        let block = if rng.below(40) == 0 { CONFIG } else { rng.pick(CODE) };
        out.push_str(&block.replace('@', &n.to_string()));
        out.push('\n');
        n += 1;
    }
    out.into_bytes()
}

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Text dense with keywords, with a fake AWS key pair every ~200 lines.
fn keyword_dense(size: usize, rng: &mut Rng) -> Vec<u8> {
    const LINES: &[&str] = &[
        "# the AKIA prefix marks a long-term key; ASIA keys come from STS and expire",
        "secret_key = settings.get(\"secret_key\")  # the session_token is refreshed hourly",
        "aws_secret_access_key = os.environ[\"AWS_SECRET_ACCESS_KEY\"]",
        "token = get_token(user); auth_token = token; security_token = None",
        "redis_url = \"redis://cache:6379/0\"; postgres_dsn = \"postgres://app@db/app\"",
        "Sales in Asia grew 12% while the mysql and mongodb clusters were migrated.",
        "logger.info(\"refreshing token for %s\", account)  # twilio and mailgun hooks too",
        "const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY; // set by the runner",
        "headers[\"Authorization\"] = \"Bearer \" + api_token  # not a key-value store",
        "heroku config:get DATABASE_URL --app acme  # then sk_live_ keys from the vault",
    ];
    let mut out = String::with_capacity(size + 4096);
    let mut line = 0usize;
    while out.len() < size {
        if line % 200 == 199 {
            let key = format!("{}{}", "AK", "IA") + &rng.string(BASE32, 16);
            let secret = rng.string(BASE64, 40);
            out.push_str(&format!("aws_access_key_id = {key}\naws_secret_access_key = {secret}\n"));
        } else {
            out.push_str(rng.pick(LINES));
            out.push('\n');
        }
        line += 1;
    }
    out.into_bytes()
}

/// One line of bundler output.
fn minified_js(size: usize, rng: &mut Rng) -> Vec<u8> {
    const NAMES: &[&str] = &["a", "b", "c", "d", "e", "n", "o", "r", "t", "i", "s", "u"];
    const WORDS: &str = "render state props dispatch payload useEffect children className \
                         onClick value length push map filter reduce token key";
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let mut out = String::with_capacity(size + 256);
    let mut i = 0usize;
    while out.len() < size {
        let (a, b, c) = (rng.pick(NAMES), rng.pick(NAMES), rng.pick(&words));
        let piece = match rng.below(6) {
            0 => format!("function {a}{i}({b},{a}){{return {b}.{c}({a})}}"),
            1 => format!("var {a}{i}={b}.{c}||{{}};"),
            2 => format!("{a}.{c}=function(){{return\"{c}-{i}\"}};"),
            3 => format!("if({a}.{c}>{}){{{b}.{c}.push({a}{i})}}", rng.below(1000)),
            4 => format!("{a}({b},\"{}\",{{{c}:!0,key:\"k{i}\"}});", rng.pick(&words)),
            _ => format!("for(var {a}=0;{a}<{b}.length;{a}++){b}[{a}]&&{b}[{a}].{c}();"),
        };
        out.push_str(&piece);
        i += 1;
    }
    out.into_bytes()
}

fn random_binary(size: usize, rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 8);
    while out.len() < size {
        out.extend_from_slice(&rng.next().to_le_bytes());
    }
    out.truncate(size);
    out
}

/// Full size under `cargo bench`; 1/64 under `cargo test`, where criterion runs each once.
fn scale() -> usize {
    if std::env::args().any(|a| a == "--bench") { 1 } else { 64 }
}

fn haystacks() -> Vec<(&'static str, Vec<u8>)> {
    let div = scale();
    let mut rng = Rng(0x6b65_7973_7765_6570);
    vec![
        ("source-code", source_code((8 << 20) / div, &mut rng)),
        ("keyword-dense", keyword_dense((4 << 20) / div, &mut rng)),
        ("minified-js", minified_js((4 << 20) / div, &mut rng)),
        ("random-binary", random_binary((4 << 20) / div, &mut rng)),
    ]
}

fn configure(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
}

fn bench(c: &mut Criterion) {
    let rules = Arc::new(RuleSet::builtin().expect("built-in rules load"));
    let matcher = Matcher::new(rules.clone());
    let mut keywords: Vec<Vec<u8>> = rules
        .rules()
        .iter()
        .flat_map(|r| r.keywords.iter().map(|k| k.as_bytes().to_vec()))
        .collect();
    keywords.sort();
    keywords.dedup();
    let prefilter = Prefilter::new(&keywords);
    let haystacks = haystacks();

    let mut scratch = Scratch::default();
    let mut matches = Vec::new();
    for (name, hay) in &haystacks {
        let mut hits = 0usize;
        prefilter.for_each(hay, &mut Vec::new(), |_, _, _| hits += 1);
        matcher.scan(hay, &mut scratch, &mut matches);
        eprintln!("{name}: {} bytes, {hits} keyword hits, {} matches", hay.len(), matches.len());
    }

    let mut group = c.benchmark_group("matcher");
    configure(&mut group);
    for (name, hay) in &haystacks {
        group.throughput(Throughput::Bytes(hay.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| {
                matcher.scan(black_box(hay), &mut scratch, &mut matches);
                matches.len()
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("prefilter");
    configure(&mut group);
    let mut buf = Vec::new();
    for (name, hay) in &haystacks {
        group.throughput(Throughput::Bytes(hay.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| {
                let mut hits = 0usize;
                prefilter.for_each(black_box(hay), &mut buf, |_, _, _| hits += 1);
                hits
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
