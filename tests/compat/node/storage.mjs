// The released @tigrisdata/storage client (pinned in package.json) against the tigris-emulator
// binary: forks (listForks, getBucketInfo, mergeFork, rebaseFork) and getPresignedUrl, which
// call Tigris's JSON endpoints with the client's own SigV4 signer; bucket settings and account
// views (createBucket options, updateBucket, getBucketInfo, listBuckets, getStats, delete
// protection against removeBucket: `settingsChecks`); soft delete (updateBucket softDelete, the
// deleted views, restoreDeletedObject, purgeDeletedObject, deleted buckets: `softDeleteChecks`).
//
// Usage: node storage.mjs PATH-TO-tigris-emulator
// Prints one line per check and a closing 'N passed, N failed' line; exits non-zero on failure.

import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import {
  bundle,
  createBucket,
  createBucketSnapshot,
  disableSnapshot,
  enableSnapshot,
  get,
  getBucketInfo,
  getPresignedUrl,
  getStats,
  list,
  listBuckets,
  listForks,
  listVersions,
  mergeFork,
  purgeDeletedObject,
  put,
  rebaseFork,
  remove,
  removeBucket,
  restoreBucket,
  restoreDeletedObject,
  updateBucket,
} from "@tigrisdata/storage";

const ROOT_KEY = "tid_compat_node_root";
const ROOT_SECRET = "tsec_compat_node_root_secret";

function start(binary) {
  const proc = spawn(binary, ["--port", "0", "--access-key", ROOT_KEY, "--secret-key", ROOT_SECRET], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout });
    lines.once("line", (line) => {
      if (!line.includes("listening on")) {
        proc.kill();
        reject(new Error(`emulator did not start: ${line}`));
      }
      resolve({ proc, endpoint: line.split(" ").pop().trim() });
    });
    proc.once("error", reject);
  });
}

/** The data of a client result; its error, thrown. */
function ok(result, what) {
  if (result.error) throw new Error(`${what}: ${result.error.message}`);
  return result.data;
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

async function main(binary) {
  const { proc, endpoint } = await start(binary);
  const base = { endpoint, accessKeyId: ROOT_KEY, secretAccessKey: ROOT_SECRET, forcePathStyle: true };
  const cfg = (bucket) => ({ config: { ...base, bucket } });
  const checks = [];
  const check = (name, fn) => checks.push([name, fn]);
  let snapshot;

  check("createBucket with enableSnapshot, put, createBucketSnapshot, fork from the snapshot", async () => {
    ok(await createBucket("node-src", { enableSnapshot: true, ...cfg() }), "createBucket");
    ok(await put("k.txt", "v1", cfg("node-src")), "put");
    snapshot = ok(await createBucketSnapshot("node-src", { name: "first", ...cfg() }), "snapshot").snapshotVersion;
    assert(/^\d+$/.test(snapshot), `snapshot version ${snapshot}`);
    ok(await put("k.txt", "v2", cfg("node-src")), "put v2");
    ok(
      await createBucket("node-fork", { sourceBucketName: "node-src", sourceBucketSnapshot: snapshot, ...cfg() }),
      "fork",
    );
    assert(ok(await get("k.txt", "string", cfg("node-fork")), "get") === "v1", "the fork does not read v1");
  });

  check("listForks names the fork with its snapshot and fork time", async () => {
    const { forks } = ok(await listForks("node-src", cfg()), "listForks");
    assert(forks.length === 1, `forks: ${JSON.stringify(forks)}`);
    const [fork] = forks;
    assert(fork.name === "node-fork", `name ${fork.name}`);
    assert(fork.snapshot.startsWith(snapshot), `snapshot ${fork.snapshot}`);
    assert(!Number.isNaN(fork.forkCreatedAt.getTime()), "forkCreatedAt is not a date");
    assert(fork.forkInfo.parents[0].bucketName === "node-src", JSON.stringify(fork.forkInfo));
  });

  check("listForks pages with limit and paginationToken", async () => {
    ok(await createBucket("node-fork-2", { sourceBucketName: "node-src", ...cfg() }), "second fork");
    const first = ok(await listForks("node-src", { limit: 1, ...cfg() }), "page 1");
    assert(first.forks.length === 1 && first.paginationToken, JSON.stringify(first));
    const second = ok(
      await listForks("node-src", { limit: 1, paginationToken: first.paginationToken, ...cfg() }),
      "page 2",
    );
    assert(second.forks.length === 1 && second.forks[0].name !== first.forks[0].name, JSON.stringify(second));
  });

  check("getBucketInfo: snapshot type, fork lineage, size", async () => {
    const src = ok(await getBucketInfo("node-src", cfg()), "source info");
    assert(src.isSnapshotEnabled === true, "source is not snapshot-enabled");
    assert(src.forkInfo.hasChildren === true, JSON.stringify(src.forkInfo));
    assert(src.sizeInfo.numberOfObjects === 1, JSON.stringify(src.sizeInfo));
    const fork = ok(await getBucketInfo("node-fork", cfg()), "fork info");
    const [parent] = fork.forkInfo.parents;
    assert(parent.bucketName === "node-src", JSON.stringify(fork.forkInfo));
    assert(parent.snapshot.startsWith(snapshot), parent.snapshot);
    assert(!Number.isNaN(parent.forkCreatedAt.getTime()), "forkCreatedAt is not a date");
    assert(JSON.stringify(fork.regions) === '["global"]', JSON.stringify(fork.regions));
  });

  check("mergeFork writes the fork's changes into its parent", async () => {
    ok(await put("from-fork.txt", "merged", cfg("node-fork")), "put in fork");
    const { snapshotVersion } = ok(await mergeFork("node-fork", "node-src", cfg()), "mergeFork");
    assert(/^\d+$/.test(snapshotVersion), `merge version ${snapshotVersion}`);
    assert(ok(await get("from-fork.txt", "string", cfg("node-src")), "get") === "merged", "not merged");
  });

  check("rebaseFork moves the fork onto its parent's present", async () => {
    const { snapshotVersion } = ok(await rebaseFork("node-fork-2", cfg()), "rebaseFork");
    assert(/^\d+$/.test(snapshotVersion), `rebase version ${snapshotVersion}`);
    assert(ok(await get("from-fork.txt", "string", cfg("node-fork-2")), "get") === "merged", "not rebased");
  });

  check("getPresignedUrl: get and put URLs from POST /?func=presign work with fetch", async () => {
    const down = ok(await getPresignedUrl("k.txt", { operation: "get", expiresIn: 600, ...cfg("node-src") }), "get url");
    assert(down.expiresIn === 600, JSON.stringify(down));
    const got = await fetch(down.url);
    assert(got.status === 200, `GET ${got.status}`);
    assert((await got.text()) === "v2", "wrong body");
    const up = ok(await getPresignedUrl("up.txt", { operation: "put", ...cfg("node-src") }), "put url");
    const sent = await fetch(up.url, { method: "PUT", body: "uploaded" });
    assert(sent.status === 200, `PUT ${sent.status}: ${await sent.text()}`);
    assert(ok(await get("up.txt", "string", cfg("node-src")), "get") === "uploaded", "not uploaded");
  });

  /** (name, text) of each entry of a plain tar (ustar names; enough for these keys). */
  function tarEntries(buf) {
    const out = [];
    let at = 0;
    while (at + 512 <= buf.length) {
      const header = buf.subarray(at, at + 512);
      if (header.every((b) => b === 0)) break;
      const name = header.subarray(0, 100).toString("utf8").replace(/\0.*$/s, "");
      const size = parseInt(header.subarray(124, 136).toString("utf8").replace(/\0.*$/s, "").trim(), 8);
      out.push([name, buf.subarray(at + 512, at + 512 + size).toString("utf8")]);
      at += 512 + Math.ceil(size / 512) * 512;
    }
    return out;
  }

  check("bundle: entries in request order, the skip report, fail mode", async () => {
    ok(await put("b/one.txt", "one", cfg("node-src")), "put");
    const data = ok(await bundle(["b/one.txt", "nope"], cfg("node-src")), "bundle");
    const body = Buffer.from(await new Response(data.body).arrayBuffer());
    const entries = tarEntries(body);
    assert(entries.length === 2, `entries ${JSON.stringify(entries)}`);
    assert(entries[0][0] === "b/one.txt" && entries[0][1] === "one", `first ${entries[0]}`);
    assert(entries[1][0] === "__bundle_errors.json", `second ${entries[1][0]}`);
    const report = JSON.parse(entries[1][1]);
    assert(report.skipped[0].key === "nope" && report.skipped[0].reason === "NoSuchKey", entries[1][1]);
    const failed = await bundle(["b/one.txt", "gone"], { onError: "fail", ...cfg("node-src") });
    assert(failed.error, "fail mode served a bundle with a missing key");
  });

  settingsChecks(check, cfg);
  softDeleteChecks(check, cfg, base);

  let passed = 0;
  let failed = 0;
  try {
    for (const [name, fn] of checks) {
      try {
        await fn();
        passed += 1;
        console.log(`ok    ${name}`);
      } catch (e) {
        failed += 1;
        console.log(`FAIL  ${name}: ${e.message}`);
      }
    }
  } finally {
    proc.kill();
  }
  console.log(`compat (node): ${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

/** Bucket settings and account views: what updateBucket and createBucket set, getBucketInfo,
 * listBuckets and getStats read back; delete protection holds against a forced removeBucket. */
function settingsChecks(check, cfg) {
  check("settings: createBucket with access, defaultTier, locations and directory listing", async () => {
    ok(
      await createBucket("node-set", {
        access: "public",
        defaultTier: "STANDARD_IA",
        locations: { type: "dual", values: ["iad", "sjc"] },
        enableDirectoryListing: true,
        ...cfg(),
      }),
      "createBucket",
    );
    const info = ok(await getBucketInfo("node-set", cfg()), "getBucketInfo");
    assert(info.settings.defaultTier === "STANDARD_IA", `tier ${info.settings.defaultTier}`);
    assert(info.locations.type === "dual", `locations ${JSON.stringify(info.locations)}`);
    assert(JSON.stringify(info.regions) === '["iad","sjc"]', `regions ${info.regions}`);
    const { buckets } = ok(await listBuckets(cfg()), "listBuckets");
    const entry = buckets.find((b) => b.name === "node-set");
    assert(entry.visibility === "public", `visibility ${entry.visibility}`);
    assert(JSON.stringify(entry.regions) === '["iad","sjc"]', `listed regions ${entry.regions}`);
  });

  check("settings: updateBucket changes only what it passes; getBucketInfo reads it back", async () => {
    ok(
      await updateBucket("node-set", {
        defaultTier: "GLACIER",
        locations: { type: "multi", values: "eur" },
        cacheControl: "max-age=60",
        customDomain: "cdn.example.com",
        allowObjectAcl: true,
        enableAdditionalHeaders: true,
        ...cfg(),
      }),
      "updateBucket",
    );
    ok(await updateBucket("node-set", { access: "private", disableDirectoryListing: true, ...cfg() }), "access");
    const info = ok(await getBucketInfo("node-set", cfg()), "getBucketInfo");
    const s = info.settings;
    assert(s.defaultTier === "GLACIER", `tier ${s.defaultTier}`);
    assert(info.locations.type === "multi" && info.locations.values === "eur", JSON.stringify(info.locations));
    assert(s.customDomain === "cdn.example.com", `domain ${s.customDomain}`);
    assert(s.allowObjectAcl === true, "allowObjectAcl");
    assert(s.additionalHeaders?.["X-Content-Type-Options"] === "nosniff", JSON.stringify(s.additionalHeaders));
    const { buckets } = ok(await listBuckets(cfg()), "listBuckets");
    assert(buckets.find((b) => b.name === "node-set").visibility === "private", "still public");
    ok(await updateBucket("node-set", { locations: { type: "global" }, enableAdditionalHeaders: false, ...cfg() }), "global");
    const back = ok(await getBucketInfo("node-set", cfg()), "getBucketInfo");
    assert(back.locations.type === "global", JSON.stringify(back.locations));
    assert(back.settings.additionalHeaders === undefined, JSON.stringify(back.settings.additionalHeaders));
    assert(back.settings.defaultTier === "GLACIER", "the tier was reset");
  });

  check("settings: an invalid location fails in the client before any request", async () => {
    const r = await updateBucket("node-set", { locations: { type: "single", values: "mars" }, ...cfg() });
    assert(r.error && /Invalid single-region/.test(r.error.message), `answer ${JSON.stringify(r)}`);
  });

  check("settings: delete protection refuses removeBucket, forced too, until turned off", async () => {
    ok(await updateBucket("node-set", { enableDeleteProtection: true, ...cfg() }), "protect");
    const info = ok(await getBucketInfo("node-set", cfg()), "getBucketInfo");
    assert(info.settings.deleteProtection === true, "deleteProtection not read back");
    const refused = await removeBucket("node-set", { force: true, ...cfg() });
    assert(refused.error, "a protected bucket was removed");
    ok(await updateBucket("node-set", { enableDeleteProtection: false, ...cfg() }), "unprotect");
    ok(await removeBucket("node-set", { force: true, ...cfg() }), "removeBucket");
  });

  check("settings: enableSnapshot and disableSnapshot switch the bucket type", async () => {
    ok(await createBucket("node-typed", cfg()), "createBucket");
    ok(await enableSnapshot("node-typed", cfg()), "enableSnapshot");
    assert(ok(await getBucketInfo("node-typed", cfg()), "info").isSnapshotEnabled === true, "still regular");
    ok(await disableSnapshot("node-typed", cfg()), "disableSnapshot");
    assert(ok(await getBucketInfo("node-typed", cfg()), "info").isSnapshotEnabled === false, "still snapshot");
    const refused = await disableSnapshot("node-fork", cfg());
    assert(refused.error, "turned off the snapshots of a fork");
  });

  check("settings: getStats counts the account's buckets and bytes", async () => {
    const { stats, buckets } = ok(await getStats(cfg()), "getStats");
    assert(stats.activeBuckets === buckets.length && buckets.length >= 2, JSON.stringify(stats));
    const src = ok(await getBucketInfo("node-src", cfg()), "getBucketInfo");
    assert(stats.totalStorageBytes >= src.sizeInfo.size && src.sizeInfo.size > 0, JSON.stringify(stats));
    const fork = buckets.find((b) => b.name === "node-fork");
    assert(fork.type === "Snapshot", `type ${fork.type}`);
  });
}

// --- soft delete (@tigrisdata/storage 3.21: updateBucket softDelete, deleted views, restores) ---

function softDeleteChecks(check, cfg, base) {
  const deletedVersions = async (bucket) =>
    ok(await listVersions({ deleted: true, ...cfg(bucket) }), "listVersions deleted").versions;

  check("soft delete: updateBucket softDelete on, shown by getBucketInfo", async () => {
    ok(await createBucket("node-soft", { config: base }), "createBucket");
    ok(await updateBucket("node-soft", { softDelete: { enabled: true, retentionDays: 20 }, config: base }), "updateBucket");
    const info = ok(await getBucketInfo("node-soft", { config: base }), "getBucketInfo");
    const soft = info.settings.softDelete;
    assert(soft.enabled === true && soft.retentionDays === 20, `softDelete ${JSON.stringify(soft)}`);
  });

  check("soft delete: list({deleted}) and listVersions({deleted}) show only deletions", async () => {
    for (const body of ["one", "two"]) {
      ok(await put("k.txt", body, cfg("node-soft")), "put");
      ok(await remove("k.txt", cfg("node-soft")), "remove");
    }
    ok(await put("live.txt", "live", cfg("node-soft")), "put live");
    const items = ok(await list({ deleted: true, ...cfg("node-soft") }), "list deleted").items;
    assert(items.length === 1 && items[0].name === "k.txt", `items ${JSON.stringify(items)}`);
    const versions = await deletedVersions("node-soft");
    assert(versions.length === 2 && versions[0].isLatest && !versions[1].isLatest, `versions ${JSON.stringify(versions)}`);
  });

  check("soft delete: restoreDeletedObject brings back the version named", async () => {
    const [, oldest] = await deletedVersions("node-soft");
    ok(await restoreDeletedObject("k.txt", oldest.versionId, cfg("node-soft")), "restoreDeletedObject");
    const text = ok(await get("k.txt", "string", cfg("node-soft")), "get");
    assert(text === "one", `restored ${text}`);
  });

  check("soft delete: purgeDeletedObject drops a deleted version", async () => {
    const [left] = await deletedVersions("node-soft");
    ok(await purgeDeletedObject("k.txt", left.versionId, cfg("node-soft")), "purgeDeletedObject");
    const after = await deletedVersions("node-soft");
    assert(after.length === 0, `after ${JSON.stringify(after)}`);
  });

  check("soft delete: removeBucket(force) keeps it; listBuckets({deleted}) and restoreBucket", async () => {
    ok(await removeBucket("node-soft", { force: true, config: base }), "removeBucket");
    const deleted = ok(await listBuckets({ deleted: true, config: base }), "listBuckets deleted").buckets;
    assert(deleted.length === 1 && deleted[0].name === "node-soft", `deleted ${JSON.stringify(deleted)}`);
    assert(deleted[0].softDeleteInfo?.retentionDays === 20, `info ${JSON.stringify(deleted[0])}`);
    ok(await restoreBucket("node-soft", { config: base }), "restoreBucket");
    const text = ok(await get("live.txt", "string", cfg("node-soft")), "get after restore");
    assert(text === "live", `after restore ${text}`);
  });

  check("soft delete: updateBucket softDelete off", async () => {
    ok(await updateBucket("node-soft", { softDelete: { enabled: false }, config: base }), "updateBucket off");
    const info = ok(await getBucketInfo("node-soft", { config: base }), "getBucketInfo");
    assert(info.settings.softDelete.enabled === false, `softDelete ${JSON.stringify(info.settings.softDelete)}`);
  });
}

process.exitCode = await main(process.argv[2]);
