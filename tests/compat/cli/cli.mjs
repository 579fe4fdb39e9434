// The released Tigris command line, @tigrisdata/cli (pinned in package.json), run command by
// command against the tigris-emulator binary, as a new user would run it with access keys:
// environment credentials (AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_IAM) or
// `tigris configure --endpoint`. Each row runs one CLI command line (some rows run a few) and
// checks what it did through other CLI commands or plain HTTP, so a command that exits 0 but
// did nothing fails.
//
// Every command that needs no OAuth login is covered, and any failing row fails the run.
// Commands that need an OAuth login, or that talk to the npm registry, are listed as not run.
//
// Usage: node cli.mjs PATH-TO-tigris-emulator [REPORT.md]
// Prints one line per row and a closing summary; writes the table to REPORT.md when given;
// exits non-zero when a row that is expected to work fails.

import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(HERE, "node_modules/@tigrisdata/cli/dist/cli.js");
const CLI_VERSION = JSON.parse(
  fs.readFileSync(path.join(HERE, "node_modules/@tigrisdata/cli/package.json"), "utf8"),
).version;
const ROOT_KEY = "tid_compat_cli_root";
const ROOT_SECRET = "tsec_compat_cli_root_secret";
const SHADOW_KEY = "tid_compat_cli_shadow";
const SHADOW_SECRET = "tsec_compat_cli_shadow_secret";


function start(binary, key, secret) {
  const proc = spawn(binary, ["--port", "0", "--access-key", key, "--secret-key", secret], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout });
    lines.once("line", (line) => {
      if (!line.includes("listening on")) {
        proc.kill();
        reject(new Error(`emulator did not start: ${line}`));
      }
      // Path-style addressing needs an IP: the SDK inside the CLI addresses a bucket on
      // `localhost` as `bucket.localhost`, which does not resolve.
      resolve({ proc, endpoint: line.split(" ").pop().trim().replace("localhost", "127.0.0.1") });
    });
    proc.once("error", reject);
  });
}

/** A webhook receiver on loopback: `next(match)` waits (up to 20 s) for a matching delivery. */
function webhook() {
  const seen = [];
  const waiting = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const delivery = { authorization: req.headers.authorization, body };
      seen.push(delivery);
      for (const w of waiting.splice(0)) w();
      res.end("ok");
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const url = `http://127.0.0.1:${server.address().port}/hook`;
      const next = (match) =>
        new Promise((ok, fail) => {
          const deadline = setTimeout(() => fail(new Error("no webhook delivery within 20 s")), 20_000);
          const look = () => {
            const found = seen.find(match);
            if (found) {
              clearTimeout(deadline);
              ok(found);
            } else {
              waiting.push(look);
            }
          };
          look();
        });
      resolve({ url, next, close: () => server.close() });
    });
  });
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** A CLI run: exit code, stdout, stderr. */
function tigris(args, { env, cwd, timeout = 60_000 } = {}) {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env, cwd, timeout, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : `killed (${error.signal ?? error.code})`) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    // Not a TTY: a prompt fails fast instead of waiting.
    child.stdin.end();
  });
}

function shown(args) {
  return ["tigris", ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(" ");
}

async function main(binary, report) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "tigris-cli-compat-"));
  const { proc, endpoint } = await start(binary, ROOT_KEY, ROOT_SECRET);
  const shadow = await start(binary, SHADOW_KEY, SHADOW_SECRET);
  const hook = await webhook();
  const home = path.join(work, "home");
  fs.mkdirSync(home);
  const baseEnv = {
    PATH: process.env.PATH,
    HOME: home,
    TIGRIS_NO_UPDATE_CHECK: "1",
    NODE_NO_WARNINGS: "1",
  };
  // Environment credentials: the S3 and IAM endpoints, and the mgmt endpoint `whoami` reads.
  const keyEnv = (key, secret, at = endpoint) => ({
    ...baseEnv,
    AWS_ACCESS_KEY_ID: key,
    AWS_SECRET_ACCESS_KEY: secret,
    AWS_ENDPOINT_URL_S3: at,
    AWS_ENDPOINT_URL_IAM: at,
    TIGRIS_MGMT_ENDPOINT: at,
  });
  const rootEnv = keyEnv(ROOT_KEY, ROOT_SECRET);
  const shadowEnv = keyEnv(SHADOW_KEY, SHADOW_SECRET, shadow.endpoint);
  const file = (name, content) => {
    const p = path.join(work, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
    return p;
  };

  // Runs the CLI; `as` picks other credentials. Fails on a non-zero exit unless `exit` says
  // which code is expected ("refused": any non-zero code, for credentials that no longer sign).
  const run = async (args, { as = rootEnv, exit = 0 } = {}) => {
    const r = await tigris(args, { env: as, cwd: work });
    if (exit === "refused" ? r.code === 0 : r.code !== exit) {
      const said = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-3).join(" | ");
      throw new Error(`\`${shown(args)}\` exited ${r.code}, expected ${exit}: ${said.slice(0, 400)}`);
    }
    return r;
  };
  const json = async (args, opts) => {
    const { stdout } = await run(args, opts);
    try {
      return JSON.parse(stdout);
    } catch {
      throw new Error(`\`${shown(args)}\` printed no JSON: ${stdout.slice(0, 300)}`);
    }
  };
  /** `--json` listings print `{"items": [...]}`, or nothing when empty. */
  const items = async (args, opts) => {
    const { stdout } = await run(args, opts);
    if (!stdout.trim()) return [];
    const parsed = JSON.parse(stdout);
    return Array.isArray(parsed) ? parsed : (parsed.items ?? parsed.keys ?? parsed.policies ?? []);
  };
  /** The value of a `{metric|property, value}` row of `stat` / `buckets get` / `objects info`. */
  const field = (rows, name) => rows.find((r) => (r.metric ?? r.property) === name)?.value;
  const bucketNames = async (extra = []) => (await items(["buckets", "list", ...extra, "--json"])).map((b) => b.name);
  const keysIn = async (bucket, opts) => (await items(["objects", "list", bucket, "--json"], opts)).map((o) => o.key);
  const content = async (bucket, key, opts) =>
    (await run(["objects", "get", bucket, key, "--mode", "string"], opts)).stdout.replace(/\n$/, "");
  const anonymous = (bucket, key) => fetch(`${endpoint}/${bucket}/${encodeURIComponent(key)}`);

  const rows = [];
  /** A row: the command it covers, the command lines it runs, a check. */
  const row = (command, lines, fn) => rows.push({ command, lines, fn });

  // --- Credentials and configuration -------------------------------------------------------
  const configHome = path.join(work, "configured-home");
  fs.mkdirSync(configHome);
  const configuredEnv = { ...baseEnv, HOME: configHome, TIGRIS_MGMT_ENDPOINT: endpoint };
  row(
    "configure",
    [`tigris configure --access-key K --access-secret S --endpoint ${"$S3"}`, "tigris ls --format json"],
    async () => {
      await run(["configure", "--access-key", ROOT_KEY, "--access-secret", ROOT_SECRET, "--endpoint", endpoint], {
        as: configuredEnv,
      });
      const config = JSON.parse(fs.readFileSync(path.join(configHome, ".tigris/config.json"), "utf8"));
      assert(config.credentials?.saved?.endpoint === endpoint, JSON.stringify(config.credentials?.saved?.endpoint));
      await run(["mk", "cli-configured"]);
      const listed = await items(["ls", "--format", "json"], { as: configuredEnv });
      assert(listed.some((b) => b.name === "cli-configured"), JSON.stringify(listed));
    },
  );
  row("login credentials", ["tigris login credentials --access-key K --access-secret S", "tigris whoami --json"], async () => {
    await run(["login", "credentials", "--access-key", ROOT_KEY, "--access-secret", ROOT_SECRET], { as: configuredEnv });
    const who = await json(["whoami", "--json"], { as: configuredEnv });
    assert(who.authMethod === "credentials", JSON.stringify(who));
  });
  row("logout", ["tigris logout", "tigris whoami --json"], async () => {
    await run(["logout"], { as: configuredEnv });
    const who = await json(["whoami", "--json"], { as: configuredEnv });
    assert(who.authMethod !== "credentials", JSON.stringify(who));
  });
  row("whoami", ["tigris whoami --json"], async () => {
    const who = await json(["whoami", "--json"]);
    assert(who.authMethod === "environment", JSON.stringify(who));
    // The user id comes from the mgmt endpoint's GET /users/whoami.
    assert(who.userId, `no user id: ${JSON.stringify(who)}`);
  });
  row("credentials test", ["tigris credentials test --json", "tigris credentials test --bucket cli-configured --json"], async () => {
    assert((await json(["credentials", "test", "--json"])).valid === true, "not valid");
    const one = await json(["credentials", "test", "--bucket", "cli-configured", "--json"]);
    assert(one.valid === true && one.bucket === "cli-configured", JSON.stringify(one));
  });

  // --- Buckets -----------------------------------------------------------------------------
  row("mk", ["tigris mk cli-main", "tigris mk cli-main/folder/", "tigris mk cli-ia --default-tier STANDARD_IA"], async () => {
    await run(["mk", "cli-main"]);
    await run(["mk", "cli-main/folder/"]);
    assert((await bucketNames()).includes("cli-main"), "bucket not listed");
    assert((await keysIn("cli-main")).includes("folder/"), "folder not made");
    await run(["mk", "cli-ia", "--default-tier", "STANDARD_IA"]);
    const tier = field(await json(["buckets", "get", "cli-ia", "--json"]), "Default Tier");
    assert(tier === "STANDARD_IA", tier);
  });
  row(
    "buckets create",
    // (`buckets create --default-tier` is not used: CLI 3.4.3 reads that option under a name
    // its parser does not give it, so it never reaches the request; `mk --default-tier` works.)
    ["tigris buckets create cli-snap --enable-snapshots --locations usa"],
    async () => {
      await run(["buckets", "create", "cli-snap", "--enable-snapshots", "--locations", "usa"]);
      const info = await json(["buckets", "get", "cli-snap", "--json"]);
      assert(field(info, "Snapshots Enabled") === "Yes", JSON.stringify(info));
      assert(/usa/i.test(field(info, "Locations") ?? ""), JSON.stringify(info));
    },
  );
  row("buckets list", ["tigris buckets list --json", "tigris buckets list --limit 1 --page-token T --json"], async () => {
    const all = await bucketNames();
    assert(all.includes("cli-main") && all.includes("cli-snap"), JSON.stringify(all));
    const first = await json(["buckets", "list", "--limit", "1", "--json"]);
    assert(first.items.length === 1 && first.paginationToken, JSON.stringify(first));
    const second = await json(["buckets", "list", "--limit", "1", "--page-token", first.paginationToken, "--json"]);
    assert(second.items.length === 1 && second.items[0].name !== first.items[0].name, JSON.stringify(second));
  });
  row("buckets get", ["tigris buckets get cli-main --json"], async () => {
    const info = await json(["buckets", "get", "cli-main", "--json"]);
    assert(field(info, "Name") === "cli-main" && field(info, "Number of Objects") === "1", JSON.stringify(info));
  });
  row(
    "buckets set",
    ["tigris buckets set cli-main --locations fra --cache-control 'max-age=60' --enable-delete-protection --soft-delete enable --retention-days 7"],
    async () => {
      await run([
        "buckets", "set", "cli-main", "--locations", "fra", "--cache-control", "max-age=60",
        "--enable-delete-protection", "--soft-delete", "enable", "--retention-days", "7",
      ]);
      const info = await json(["buckets", "get", "cli-main", "--json"]);
      assert(field(info, "Delete Protection") === "Yes", JSON.stringify(info));
      assert(/7/.test(field(info, "Soft Delete") ?? ""), JSON.stringify(info));
      assert(/fra|Frankfurt/i.test(field(info, "Locations") ?? ""), JSON.stringify(info));
      // Delete protection holds against the CLI's own delete.
      await run(["buckets", "delete", "cli-main", "--yes"], { exit: 1 });
      await run(["buckets", "set", "cli-main", "--enable-delete-protection", "false"]);
    },
  );
  row("buckets set-locations", ["tigris buckets set-locations cli-snap --locations iad,ams"], async () => {
    await run(["buckets", "set-locations", "cli-snap", "--locations", "iad,ams"]);
    const locations = field(await json(["buckets", "get", "cli-snap", "--json"]), "Locations") ?? "";
    assert(/iad|Ashburn/i.test(locations) && /ams|Amsterdam/i.test(locations), locations);
  });
  row("buckets disable-snapshots", ["tigris buckets disable-snapshots cli-plain"], async () => {
    await run(["buckets", "create", "cli-plain", "--enable-snapshots"]);
    await run(["buckets", "disable-snapshots", "cli-plain"]);
    assert(field(await json(["buckets", "get", "cli-plain", "--json"]), "Snapshots Enabled") === "No", "still on");
  });
  row("buckets enable-snapshots", ["tigris buckets enable-snapshots cli-plain"], async () => {
    await run(["buckets", "enable-snapshots", "cli-plain"]);
    assert(field(await json(["buckets", "get", "cli-plain", "--json"]), "Snapshots Enabled") === "Yes", "not on");
  });
  row(
    "buckets set-notifications",
    [
      "tigris buckets set-notifications cli-main --url $HOOK --token T",
      "… --disable",
      "… --enable",
      "… --reset",
    ],
    async () => {
      const notifications = async () => field(await json(["buckets", "get", "cli-main", "--json"]), "Notifications");
      await run(["buckets", "set-notifications", "cli-main", "--url", hook.url, "--token", "compat-token"]);
      assert((await notifications()) === "Enabled", await notifications());
      await run(["buckets", "set-notifications", "cli-main", "--disable"]);
      assert((await notifications()) === "Disabled", await notifications());
      // --enable sends back the masked token it read: the webhook must still get the real one.
      await run(["buckets", "set-notifications", "cli-main", "--enable"]);
      await run(["touch", "cli-main/notified.txt"]);
      const delivery = await hook.next((r) => r.body.includes("notified.txt"));
      assert(delivery.authorization === "Bearer compat-token", `authorization ${delivery.authorization}`);
      await run(["buckets", "set-notifications", "cli-main", "--reset"]);
      assert((await notifications()) !== "Enabled", "not reset");
    },
  );
  row(
    "buckets set-cors",
    ["tigris buckets set-cors cli-main --origins https://app.example --methods GET,PUT --expose-headers ETag --max-age 600", "… --reset"],
    async () => {
      await run(["buckets", "set-cors", "cli-main", "--origins", "https://app.example", "--methods", "GET,PUT", "--expose-headers", "ETag", "--max-age", "600"]);
      const preflight = await fetch(`${endpoint}/cli-main/any`, {
        method: "OPTIONS",
        headers: { Origin: "https://app.example", "Access-Control-Request-Method": "PUT" },
      });
      assert(preflight.headers.get("access-control-allow-origin") === "https://app.example", `preflight ${preflight.status}`);
      await run(["buckets", "set-cors", "cli-main", "--reset"]);
    },
    "cors",
  );
  let ruleId;
  row(
    "buckets lifecycle create",
    ["tigris buckets lifecycle create cli-tier --prefix logs/ --expire-days 7 --json"],
    async () => {
      await run(["mk", "cli-tier"]);
      const created = await json(["buckets", "lifecycle", "create", "cli-tier", "--prefix", "logs/", "--expire-days", "7", "--json"]);
      ruleId = created.id ?? created.rule?.id;
      assert(ruleId, JSON.stringify(created));
    },
    "cors",
  );
  row("buckets lifecycle list", ["tigris buckets lifecycle list cli-tier --json"], async () => {
    const rules = await items(["buckets", "lifecycle", "list", "cli-tier", "--json"]);
    assert(rules.some((r) => r.id === ruleId), JSON.stringify(rules));
  });
  row("buckets lifecycle edit", ["tigris buckets lifecycle edit cli-tier ID --expire-days 30 --disable"], async () => {
    await run(["buckets", "lifecycle", "edit", "cli-tier", ruleId, "--expire-days", "30", "--disable"]);
    const rules = await items(["buckets", "lifecycle", "list", "cli-tier", "--json"]);
    assert(JSON.stringify(rules).includes("30"), JSON.stringify(rules));
  });
  for (const removed of [
    ["buckets", "set-ttl", "cli-tier", "--days", "1"],
    ["buckets", "set-transition", "cli-tier", "--storage-class", "GLACIER", "--days", "1"],
    ["forks", "list", "cli-snap"],
  ]) {
    row(removed.slice(0, removed[0] === "forks" ? 1 : 2).join(" "), [`${shown(removed)} (removed in 3.4.3)`], async () => {
      const r = await run(removed, { exit: 1 });
      assert(/removed/i.test(r.stderr + r.stdout), r.stderr + r.stdout);
    });
  }

  // --- Snapshots, forks, merge, rebase ------------------------------------------------------
  let snapshot;
  row("snapshots take", ["tigris snapshots take cli-snap first --json"], async () => {
    await run(["cp", file("v1.txt", "v1"), "t3://cli-snap/k.txt"]);
    snapshot = (await json(["snapshots", "take", "cli-snap", "first", "--json"])).version;
    assert(/^\d+$/.test(snapshot ?? ""), `version ${snapshot}`);
    await run(["cp", file("v2.txt", "v2"), "t3://cli-snap/k.txt"]);
  });
  row("snapshots list", ["tigris snapshots list cli-snap --json"], async () => {
    const listed = JSON.stringify(await items(["snapshots", "list", "cli-snap", "--json"]));
    assert(listed.includes(snapshot) && listed.includes("first"), listed);
  });
  row("mk --fork-of", ["tigris mk cli-fork --fork-of cli-snap --source-snapshot V", "tigris buckets create cli-fork2 --fork-of cli-snap"], async () => {
    await run(["mk", "cli-fork", "--fork-of", "cli-snap", "--source-snapshot", snapshot]);
    assert((await content("cli-fork", "k.txt")) === "v1", "the fork does not read v1");
    await run(["buckets", "create", "cli-fork2", "--fork-of", "cli-snap"]);
    assert((await content("cli-fork2", "k.txt")) === "v2", "the fork does not read v2");
  });
  row("buckets list --forks-of", ["tigris buckets list --forks-of cli-snap --json"], async () => {
    const forks = await bucketNames(["--forks-of", "cli-snap"]);
    assert(forks.includes("cli-fork") && forks.includes("cli-fork2"), JSON.stringify(forks));
  });
  row("buckets merge", ["tigris buckets merge cli-fork --yes"], async () => {
    await run(["cp", file("m.txt", "merged"), "t3://cli-fork/from-fork.txt"]);
    await run(["buckets", "merge", "cli-fork", "--yes"]);
    assert((await content("cli-snap", "from-fork.txt")) === "merged", "not merged");
  });
  row("buckets rebase", ["tigris buckets rebase cli-fork2 --yes"], async () => {
    await run(["buckets", "rebase", "cli-fork2", "--yes"]);
    assert((await content("cli-fork2", "from-fork.txt")) === "merged", "not rebased");
  });

  // --- Objects and paths --------------------------------------------------------------------
  row("cp", ["tigris cp a.txt t3://cli-main/a.txt", "tigris cp t3://cli-main/a.txt back.txt", "tigris cp t3://cli-main/a.txt t3://cli-main/b.txt", "tigris cp -r dir/ t3://cli-main/dir/"], async () => {
    await run(["cp", file("a.txt", "alpha"), "t3://cli-main/a.txt"]);
    await run(["cp", "t3://cli-main/a.txt", path.join(work, "back.txt")]);
    assert(fs.readFileSync(path.join(work, "back.txt"), "utf8") === "alpha", "download differs");
    await run(["cp", "t3://cli-main/a.txt", "t3://cli-main/b.txt"]);
    file("dir/one.txt", "1");
    file("dir/sub/two.txt", "2");
    await run(["cp", "-r", `${path.join(work, "dir")}/`, "t3://cli-main/dir/"]);
    const keys = await keysIn("cli-main");
    for (const k of ["a.txt", "b.txt"]) assert(keys.includes(k), JSON.stringify(keys));
    const all = JSON.stringify(await items(["ls", "cli-main/dir/", "--format", "json"]));
    assert(all.includes("one.txt"), all);
  });
  row("mv", ["tigris mv t3://cli-main/b.txt t3://cli-main/c.txt -f"], async () => {
    await run(["mv", "t3://cli-main/b.txt", "t3://cli-main/c.txt", "-f"]);
    const keys = await keysIn("cli-main");
    assert(keys.includes("c.txt") && !keys.includes("b.txt"), JSON.stringify(keys));
    assert((await content("cli-main", "c.txt")) === "alpha", "moved content differs");
  });
  row("touch", ["tigris touch cli-main/empty.txt"], async () => {
    await run(["touch", "cli-main/empty.txt"]);
    assert(field(await json(["stat", "cli-main/empty.txt", "--format", "json"]), "Size") === "0 B", "not empty");
  });
  row("ls", ["tigris ls --format json", "tigris ls cli-main --format json", "tigris ls cli-main/dir/ --format json"], async () => {
    assert((await items(["ls", "--format", "json"])).some((b) => b.name === "cli-main"), "buckets");
    assert(JSON.stringify(await items(["ls", "cli-main", "--format", "json"])).includes("a.txt"), "objects");
    const dir = JSON.stringify(await items(["ls", "cli-main/dir/", "--format", "json"]));
    assert(dir.includes("sub/") && !dir.includes("a.txt"), dir);
  });
  row("stat", ["tigris stat --format json", "tigris stat cli-main --format json", "tigris stat cli-main/a.txt --format json"], async () => {
    const account = await json(["stat", "--format", "json"]);
    assert(Number(field(account, "Active Buckets")) >= 2, JSON.stringify(account));
    const bucket = await json(["stat", "cli-main", "--format", "json"]);
    assert(Number(field(bucket, "Number of Objects")) >= 3, JSON.stringify(bucket));
    assert(field(await json(["stat", "cli-main/a.txt", "--format", "json"]), "Size") === "5 B", "object stat");
  });
  row("presign", ["tigris presign cli-main/a.txt --format json", "tigris presign cli-main/up.txt --method put --format json"], async () => {
    const get = await json(["presign", "cli-main/a.txt", "--format", "json"]);
    const got = await fetch(get.url);
    assert(got.status === 200 && (await got.text()) === "alpha", `GET ${got.status}`);
    const put = await json(["presign", "cli-main/up.txt", "--method", "put", "--format", "json"]);
    const sent = await fetch(put.url, { method: "PUT", body: "uploaded" });
    assert(sent.status === 200, `PUT ${sent.status}`);
    assert((await content("cli-main", "up.txt")) === "uploaded", "not uploaded");
  });
  row("bundle", ["tigris bundle cli-main --keys a.txt,c.txt --output out.tar"], async () => {
    const out = path.join(work, "out.tar");
    await run(["bundle", "cli-main", "--keys", "a.txt,c.txt", "--output", out]);
    const tar = fs.readFileSync(out).toString("latin1");
    assert(tar.includes("a.txt") && tar.includes("c.txt") && tar.includes("alpha"), "bundle lacks the objects");
  });
  row("objects put", ["tigris objects put cli-main p.json p.json --content-type application/json"], async () => {
    await run(["objects", "put", "cli-main", "p.json", file("p.json", "{}"), "--content-type", "application/json"]);
    const info = await json(["objects", "info", "cli-main", "p.json", "--json"]);
    assert(field(info, "Content-Type") === "application/json", JSON.stringify(info));
  });
  row("objects get", ["tigris objects get cli-main a.txt --output got.txt", "tigris objects get cli-main a.txt --mode string"], async () => {
    await run(["objects", "get", "cli-main", "a.txt", "--output", path.join(work, "got.txt")]);
    assert(fs.readFileSync(path.join(work, "got.txt"), "utf8") === "alpha", "file differs");
    assert((await content("cli-main", "a.txt")) === "alpha", "string differs");
  });
  row("objects list", ["tigris objects list cli-main --prefix dir/ --json"], async () => {
    const keys = (await items(["objects", "list", "cli-main", "--prefix", "dir/", "--json"])).map((o) => o.key);
    assert(keys.includes("dir/one.txt") && !keys.includes("a.txt"), JSON.stringify(keys));
  });
  row("objects info", ["tigris objects info cli-main a.txt --json"], async () => {
    const info = await json(["objects", "info", "cli-main", "a.txt", "--json"]);
    assert(field(info, "Size") === "5 B", JSON.stringify(info));
  });
  row("objects list-versions", ["tigris objects list-versions cli-main --prefix a.txt --json"], async () => {
    await run(["cp", file("a2.txt", "alpha2"), "t3://cli-main/a.txt"]);
    const { versions } = await json(["objects", "list-versions", "cli-main", "--prefix", "a.txt", "--json"]);
    assert(versions.length === 1 && versions[0].name === "a.txt" && versions[0].size === 6, JSON.stringify(versions));
  });
  row("objects delete", ["tigris objects delete cli-main p.json --yes"], async () => {
    await run(["objects", "delete", "cli-main", "p.json", "--yes"]);
    assert(!(await keysIn("cli-main")).includes("p.json"), "still listed");
  });
  row("rm", ["tigris rm t3://cli-main/c.txt -f", "tigris rm t3://cli-main/dir/ -rf", "tigris rm t3://cli-empty -f"], async () => {
    await run(["rm", "t3://cli-main/c.txt", "-f"]);
    await run(["rm", "t3://cli-main/dir/", "-rf"]);
    const keys = await keysIn("cli-main");
    assert(!keys.includes("c.txt") && !keys.some((k) => k.startsWith("dir/")), JSON.stringify(keys));
    await run(["mk", "cli-empty"]);
    await run(["rm", "t3://cli-empty", "-f"]);
    assert(!(await bucketNames()).includes("cli-empty"), "bucket not removed");
  });
  row("buckets delete", ["tigris buckets delete cli-gone --yes", "tigris buckets list --deleted --json"], async () => {
    await run(["mk", "cli-gone"]);
    await run(["buckets", "set", "cli-gone", "--soft-delete", "enable", "--retention-days", "7"]);
    await run(["buckets", "delete", "cli-gone", "--yes"]);
    assert(!(await bucketNames()).includes("cli-gone"), "still listed");
    assert((await bucketNames(["--deleted"])).includes("cli-gone"), "not among the deleted");
  });
  row("buckets restore", ["tigris buckets restore cli-gone"], async () => {
    await run(["buckets", "restore", "cli-gone"]);
    assert((await bucketNames()).includes("cli-gone"), "not restored");
  });
  row("objects restore", ["tigris objects restore cli-archive g.txt --json", "tigris objects restore-info cli-archive g.txt --json"], async () => {
    await run(["mk", "cli-archive", "--default-tier", "GLACIER"]);
    await run(["cp", file("g.txt", "cold"), "t3://cli-archive/g.txt"]);
    const before = await json(["objects", "restore-info", "cli-archive", "g.txt", "--json"]);
    assert(JSON.stringify(before).includes("archived"), `before the restore: ${JSON.stringify(before)}`);
    await run(["objects", "restore", "cli-archive", "g.txt", "--json"]);
    // The emulator binary's restore delay is zero: the restored copy is ready at once.
    const info = await json(["objects", "restore-info", "cli-archive", "g.txt", "--json"]);
    assert(JSON.stringify(info).includes("restored"), JSON.stringify(info));
  });
  row("objects set-access", ["tigris objects set-access cli-main a.txt public", "… private"], async () => {
    await run(["objects", "set-access", "cli-main", "a.txt", "public"]);
    assert((await anonymous("cli-main", "a.txt")).status === 200, "not public");
    await run(["objects", "set-access", "cli-main", "a.txt", "private"]);
    assert((await anonymous("cli-main", "a.txt")).status === 403, "not private");
  });
  row("objects set", ["tigris objects set cli-main up.txt --access public --new-key up2.txt"], async () => {
    await run(["objects", "set", "cli-main", "up.txt", "--access", "public", "--new-key", "up2.txt"]);
    assert((await anonymous("cli-main", "up2.txt")).status === 200, "not public");
  });
  row("buckets set --access", ["tigris buckets set cli-pub --access public", "tigris mk cli-pub2 --public"], async () => {
    await run(["mk", "cli-pub"]);
    await run(["cp", file("pub.txt", "public"), "t3://cli-pub/pub.txt"]);
    assert((await anonymous("cli-pub", "pub.txt")).status === 403, "public before it was made so");
    await run(["buckets", "set", "cli-pub", "--access", "public"]);
    assert((await anonymous("cli-pub", "pub.txt")).status === 200, "not public");
    await run(["mk", "cli-pub2", "--public"]);
    await run(["cp", file("pub.txt", "public"), "t3://cli-pub2/pub.txt"]);
    assert((await anonymous("cli-pub2", "pub.txt")).status === 200, "not public");
  });
  row("cp --access", ["tigris cp pub.txt t3://cli-main/open.txt --access public"], async () => {
    await run(["cp", file("pub.txt", "public"), "t3://cli-main/open.txt", "--access", "public"]);
    assert((await anonymous("cli-main", "open.txt")).status === 200, "not public");
  });

  // --- Shadow buckets (migration) -------------------------------------------------------------
  row(
    "buckets set-migration",
    ["tigris buckets set-migration cli-lazy --bucket legacy --endpoint $SHADOW --region auto --access-key K --secret-key S --write-through"],
    async () => {
      await run(["mk", "legacy"], { as: shadowEnv });
      for (const k of ["old/1.txt", "old/2.txt", "old/3.txt"]) {
        await run(["cp", file("old.txt", `shadow ${k}`), `t3://legacy/${k}`], { as: shadowEnv });
      }
      await run(["mk", "cli-lazy"]);
      await run([
        "buckets", "set-migration", "cli-lazy", "--bucket", "legacy", "--endpoint", shadow.endpoint,
        "--region", "auto", "--access-key", SHADOW_KEY, "--secret-key", SHADOW_SECRET,
      ]);
      assert(/legacy/.test(field(await json(["buckets", "get", "cli-lazy", "--json"]), "Data Migration") ?? ""), "not configured");
      assert((await content("cli-lazy", "old/1.txt")) === "shadow old/1.txt", "no read-through");
    },
    "shadow",
  );
  row("ls --source", ["tigris ls cli-lazy/old/ --source shadow --format json", "tigris objects list cli-lazy --source tigris --json"], async () => {
    const fromShadow = JSON.stringify(await items(["ls", "cli-lazy/old/", "--source", "shadow", "--format", "json"]));
    assert(fromShadow.includes("3.txt"), fromShadow);
    await items(["objects", "list", "cli-lazy", "--source", "tigris", "--json"]);
  });
  row("buckets migrate", ["tigris buckets migrate cli-lazy/old/ --json"], async () => {
    const done = await json(["buckets", "migrate", "cli-lazy/old/", "--json"]);
    assert(done.failed === 0 && done.confirmed === done.toMigrate, JSON.stringify(done));
    const inTigris = (await items(["objects", "list", "cli-lazy", "--source", "tigris", "--json"])).map((o) => o.key);
    assert(["old/1.txt", "old/2.txt", "old/3.txt"].every((k) => inTigris.includes(k)), JSON.stringify(inTigris));
  });

  // --- Access keys ----------------------------------------------------------------------------
  let key;
  const keyRun = (args, exit = 0) => run(args, { as: keyEnv(key.id, key.secret), exit });
  row("access-keys create", ["tigris access-keys create cli-agent --json"], async () => {
    key = await json(["access-keys", "create", "cli-agent", "--json"]);
    assert(/^tid_/.test(key.id ?? "") && key.secret && key.name === "cli-agent", JSON.stringify({ ...key, secret: "…" }));
    // A key without roles or policies may do nothing.
    await keyRun(["ls", "cli-main", "--format", "json"], 2);
  });
  row("access-keys list", ["tigris access-keys list --json", "tigris access-keys list --limit 1 --page-token T --json"], async () => {
    const listed = await items(["access-keys", "list", "--json"]);
    assert(listed.some((k) => k.id === key.id && k.name === "cli-agent"), JSON.stringify(listed));
    await json(["access-keys", "create", "cli-other", "--json"]);
    const first = await json(["access-keys", "list", "--limit", "1", "--json"]);
    assert(first.items.length === 1 && first.paginationToken, JSON.stringify(first));
    const second = await json(["access-keys", "list", "--limit", "1", "--page-token", first.paginationToken, "--json"]);
    assert(second.items.length === 1 && second.items[0].id !== first.items[0].id, JSON.stringify(second));
  });
  row("access-keys get", ["tigris access-keys get ID --json"], async () => {
    const got = await json(["access-keys", "get", key.id, "--json"]);
    assert(got.id === key.id && got.name === "cli-agent" && got.roles.length === 0, JSON.stringify(got));
  });
  row(
    "access-keys assign",
    [
      "tigris access-keys assign ID --bucket cli-main,cli-snap --role Editor,ReadOnly --json",
      "tigris access-keys assign ID --admin",
      "tigris access-keys assign ID --revoke-roles",
    ],
    async () => {
      await run(["access-keys", "assign", key.id, "--bucket", "cli-main,cli-snap", "--role", "Editor,ReadOnly", "--json"]);
      const roles = (await json(["access-keys", "get", key.id, "--json"])).roles;
      assert(
        roles.length === 2 &&
          roles.some((r) => r.bucket === "cli-main" && r.role === "Editor") &&
          roles.some((r) => r.bucket === "cli-snap" && r.role === "ReadOnly"),
        JSON.stringify(roles),
      );
      // The roles are enforced: write in the Editor bucket, read only in the ReadOnly one,
      // nothing elsewhere.
      await keyRun(["cp", file("agent.txt", "agent"), "t3://cli-main/agent.txt"]);
      await keyRun(["objects", "get", "cli-snap", "k.txt", "--mode", "string"]);
      await keyRun(["cp", file("agent.txt", "agent"), "t3://cli-snap/agent.txt"], 2);
      await keyRun(["ls", "cli-plain", "--format", "json"], 2);
      await run(["access-keys", "assign", key.id, "--admin"]);
      const admin = (await json(["access-keys", "get", key.id, "--json"])).roles;
      assert(admin.length === 1 && admin[0].bucket === "*" && admin[0].role === "NamespaceAdmin", JSON.stringify(admin));
      await keyRun(["ls", "cli-plain", "--format", "json"]);
      await run(["access-keys", "assign", key.id, "--revoke-roles"]);
      assert((await json(["access-keys", "get", key.id, "--json"])).roles.length === 0, "roles not revoked");
      await keyRun(["ls", "cli-main", "--format", "json"], 2);
    },
  );
  row("access-keys rotate", ["tigris access-keys rotate ID --yes --json"], async () => {
    await run(["access-keys", "assign", key.id, "--bucket", "cli-main", "--role", "ReadOnly"]);
    const old = key.secret;
    const rotated = await json(["access-keys", "rotate", key.id, "--yes", "--json"]);
    assert(rotated.id === key.id && rotated.secret && rotated.secret !== old, "no new secret");
    await run(["ls", "cli-main", "--format", "json"], { as: keyEnv(key.id, old), exit: "refused" });
    key = { ...key, secret: rotated.secret };
    await keyRun(["ls", "cli-main", "--format", "json"]);
  });
  let policyArn;
  row(
    "access-keys attach-policy",
    ["tigris access-keys attach-policy ID --policy-arn ARN (the policy made with @tigrisdata/iam addPolicy)"],
    async () => {
      // No key-only CLI command creates a policy: the CLI's own library does.
      const { addPolicy } = await import(path.join(HERE, "node_modules/@tigrisdata/iam/dist/index.js"));
      const made = await addPolicy("cli-read-plain", {
        description: "read cli-plain",
        document: {
          version: "2012-10-17",
          statements: [
            { effect: "Allow", action: ["s3:ListBucket", "s3:GetObject"], resource: ["arn:aws:s3:::cli-plain", "arn:aws:s3:::cli-plain/*"] },
          ],
        },
        config: { accessKeyId: ROOT_KEY, secretAccessKey: ROOT_SECRET, iamEndpoint: endpoint },
      });
      assert(!made.error, `addPolicy: ${made.error?.message}`);
      policyArn = made.data.resource;
      assert(policyArn, JSON.stringify(made.data));
      await keyRun(["ls", "cli-plain", "--format", "json"], 2);
      await run(["access-keys", "attach-policy", key.id, "--policy-arn", policyArn]);
      await keyRun(["ls", "cli-plain", "--format", "json"]);
    },
  );
  row("access-keys list-policies", ["tigris access-keys list-policies ID --json"], async () => {
    const listed = JSON.stringify(await items(["access-keys", "list-policies", key.id, "--json"]));
    assert(listed.includes("cli-read-plain"), listed);
  });
  row("access-keys detach-policy", ["tigris access-keys detach-policy ID --policy-arn ARN --yes"], async () => {
    await run(["access-keys", "detach-policy", key.id, "--policy-arn", policyArn, "--yes"]);
    assert((await items(["access-keys", "list-policies", key.id, "--json"])).length === 0, "still attached");
    await keyRun(["ls", "cli-plain", "--format", "json"], 2);
  });
  row("access-keys delete", ["tigris access-keys delete ID --yes"], async () => {
    await run(["access-keys", "delete", key.id, "--yes"]);
    assert(!(await items(["access-keys", "list", "--json"])).some((k) => k.id === key.id), "still listed");
    await keyRun(["ls", "cli-main", "--format", "json"], "refused");
  });

  // --- Run ------------------------------------------------------------------------------------
  const results = [];
  try {
    for (const r of rows) {
      let error;
      try {
        await r.fn();
      } catch (e) {
        error = e;
      }
      const status = !error ? "pass" : "FAIL";
      results.push({ ...r, status, error });
      const note = error ? `: ${error.message}` : "";
      console.log(`${status.padEnd(7)} ${r.command}${note}`);
    }
  } finally {
    proc.kill();
    shadow.proc.kill();
    hook.close();
    fs.rmSync(work, { recursive: true, force: true });
  }

  const failed = results.filter((r) => r.status === "FAIL").length;
  const passed = results.length - failed;
  console.log(`${passed} passed, ${failed} failed`);
  if (report) fs.writeFileSync(report, markdown(results, { passed, failed }));
  return failed === 0;
}

const NOT_RUN = [
  ["login", "OAuth login (interactive: chooses OAuth or credentials)"],
  ["login select", "OAuth login (interactive)"],
  ["login oauth", "OAuth login (Auth0 device flow in a browser)"],
  ["organizations list / create / select", "OAuth login"],
  ["iam policies list / get / create / edit / delete / link-key / unlink-key / list-keys", "OAuth login"],
  ["iam users list / invite / revoke-invitation / update-role / remove", "OAuth login"],
  ["iam teams list / create / edit / delete", "OAuth login"],
  ["update", "talks to the npm registry, not to Tigris"],
];

function markdown(results, { passed, failed }) {
  const escape = (s) => s.replaceAll("|", "\\|");
  const lines = [
    "# The official Tigris CLI against the emulator",
    "",
    `\`cargo xtask compat\` runs \`@tigrisdata/cli\` ${CLI_VERSION} (pinned by \`tests/compat/cli/package-lock.json\`) against`,
    "the emulator binary, command by command (`tests/compat/cli/cli.mjs`). Credentials come from the",
    "environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_IAM`,",
    "`TIGRIS_MGMT_ENDPOINT`, all `http://127.0.0.1:<port>`) or from `tigris configure --endpoint`. Each row",
    "checks what the command did through other commands or plain HTTP (a role is checked by using the key),",
    "not only its exit status. `$S3` is the emulator's endpoint, `$SHADOW` a second emulator serving as the",
    "shadow bucket, `$HOOK` a webhook receiver on loopback; `ID` and `ARN` are the key and policy the",
    "earlier rows made.",
    "",
    "Any failing row fails `cargo xtask compat`.",
    "",
    `Result of the last run: ${passed} passed, ${failed} failed.`,
    "",
    "| Command | Command lines run | Result |",
    "| --- | --- | --- |",
  ];
  for (const r of results) {
    const result = r.status === "pass" ? "pass" : "**fail**";
    lines.push(`| \`${r.command}\` | ${r.lines.map((l) => `\`${escape(l)}\``).join("<br>")} | ${result} |`);
  }
  lines.push("", "Not run:", "", "| Command | Why |", "| --- | --- |");
  for (const [command, why] of NOT_RUN) lines.push(`| \`${command}\` | ${why} |`);
  lines.push("");
  return lines.join("\n");
}

const [binary, report] = process.argv.slice(2);
if (!binary) {
  console.error("usage: node cli.mjs PATH-TO-tigris-emulator [REPORT.md]");
  process.exit(2);
}
main(binary, report).then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
