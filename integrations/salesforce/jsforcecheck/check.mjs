// check.mjs drives Tandem's Salesforce sandbox with jsforce, the most used
// third-party Salesforce client, using only its ordinary calls. If the
// sandbox is faithful, every step passes; the first mismatch exits non-zero
// with a message saying what was expected and what came back.
//
// Usage: SF_SANDBOX_URL=http://127.0.0.1:PORT node check.mjs
// Optional: SF_USERNAME, SF_PASSWORD, SF_CLIENT_ID, SF_CLIENT_SECRET
// (defaults are the sandbox's).
import jsforce from 'jsforce';

let step = 'start';

const url = process.env.SF_SANDBOX_URL;
if (!url) {
  fail('SF_SANDBOX_URL is not set (the base URL of a running Salesforce sandbox)');
}
const username = process.env.SF_USERNAME || 'admin@tandem.test';
const password = process.env.SF_PASSWORD || 'sandbox-password';
const clientId = process.env.SF_CLIENT_ID || 'tandem-dev';
const clientSecret = process.env.SF_CLIENT_SECRET || 'tandem-dev-secret';
// A run id keeps names and external ids unique if the sandbox is long-lived.
const run = Date.now().toString(36);
const EXT = 'Lightspeed_Customer_ID__c';

function fail(msg) {
  console.error(`jsforcecheck: FAIL at step "${step}": ${msg}`);
  process.exit(1);
}

function expect(cond, msg, got) {
  if (!cond) {
    fail(got === undefined ? msg : `${msg}; got ${JSON.stringify(got)}`);
  }
}

function isId(id, prefix) {
  return typeof id === 'string' && id.length === 18 && id.startsWith(prefix);
}

async function main() {
  step = 'login (OAuth username-password flow)';
  const conn = new jsforce.Connection({
    oauth2: { clientId, clientSecret, loginUrl: url },
    loginUrl: url,
    version: '66.0',
  });
  const userInfo = await conn.login(username, password);
  expect(conn.accessToken, 'no access token after login');
  expect(conn.instanceUrl, 'no instance URL after login');
  expect(isId(userInfo.id, '005'), 'user id is not an 18-character User id', userInfo.id);
  expect(isId(userInfo.organizationId, '00D'), 'org id is not an 18-character Organization id', userInfo.organizationId);

  step = 'identity';
  const identity = await conn.identity();
  expect(identity.username === username, `identity username is not ${username}`, identity.username);
  expect(identity.organization_id === userInfo.organizationId, 'identity org id differs from login', identity.organization_id);
  expect(identity.user_id === userInfo.id, 'identity user id differs from login', identity.user_id);

  step = 'limits';
  const limits = await conn.limits();
  const daily = limits.DailyApiRequests;
  expect(daily && daily.Max > 0 && daily.Remaining >= 0 && daily.Remaining <= daily.Max, 'DailyApiRequests missing or inconsistent', daily);
  const usage = conn.limitInfo && conn.limitInfo.apiUsage;
  expect(usage && usage.limit > 0 && usage.used >= 0, 'Sforce-Limit-Info not parsed into conn.limitInfo.apiUsage', conn.limitInfo);

  step = 'describe';
  const global = await conn.describeGlobal();
  expect(global.sobjects.some((s) => s.name === 'Contact' && s.keyPrefix === '003'), 'describeGlobal lacks Contact (003)');
  let contact = await conn.sobject('Contact').describe();
  const lastName = contact.fields.find((f) => f.name === 'LastName');
  expect(lastName && lastName.type === 'string' && lastName.nillable === false && lastName.createable === true && lastName.length === 80,
    'Contact.LastName is not a required 80-character string', lastName);
  const email = contact.fields.find((f) => f.name === 'Email');
  expect(email && email.type === 'email', 'Contact.Email is not of type email', email);

  step = 'tooling: create external id field';
  if (!contact.fields.some((f) => f.name === EXT)) {
    const res = await conn.tooling.sobject('CustomField').create({
      FullName: `Contact.${EXT}`,
      Metadata: { label: 'Lightspeed Customer ID', type: 'Text', length: 40, externalId: true, unique: true },
    });
    expect(res.success, 'tooling CustomField create failed', res);
    contact = await conn.describe('Contact');
  }
  const ext = contact.fields.find((f) => f.name === EXT);
  expect(ext && ext.externalId === true && ext.unique === true, `${EXT} is not a unique external id in describe`, ext);

  step = 'create';
  const created = await conn.sobject('Contact').create({
    FirstName: 'Jo', LastName: `JSF-${run}-single`, Email: `jo.${run}@example.com`, [EXT]: `${run}-1`,
  });
  expect(created.success && isId(created.id, '003'), 'create did not return success with a Contact id', created);

  step = 'retrieve';
  const got = await conn.sobject('Contact').retrieve(created.id);
  expect(got.Id === created.id && got.LastName === `JSF-${run}-single` && got.Email === `jo.${run}@example.com`, 'retrieved record differs', got);

  step = 'update';
  const updated = await conn.sobject('Contact').update({ Id: created.id, Phone: '+1 555 0100' });
  expect(updated.success, 'update failed', updated);
  const afterUpdate = await conn.sobject('Contact').retrieve(created.id);
  expect(afterUpdate.Phone === '+1 555 0100', 'update not visible on retrieve', afterUpdate.Phone);

  step = 'upsert by external id (update)';
  const up1 = await conn.sobject('Contact').upsert({ [EXT]: `${run}-1`, LastName: `JSF-${run}-upserted` }, EXT);
  expect(up1.success, 'upsert of an existing external id failed', up1);
  expect(!up1.created, 'upsert of an existing external id says created', up1);
  const afterUpsert = await conn.sobject('Contact').retrieve(created.id);
  expect(afterUpsert.LastName === `JSF-${run}-upserted`, 'upsert did not update the matching record', afterUpsert.LastName);

  step = 'upsert by external id (insert)';
  const up2 = await conn.sobject('Contact').upsert({ [EXT]: `${run}-2`, LastName: `JSF-${run}-upsert-new` }, EXT);
  expect(up2.success && up2.created === true && isId(up2.id, '003'), 'upsert of a new external id did not create', up2);

  step = 'collections create (250 records)';
  const batch = [];
  for (let i = 0; i < 250; i++) {
    batch.push({ LastName: `JSF-${run}-bulk-${String(i).padStart(3, '0')}`, [EXT]: `${run}-c${i}` });
  }
  const results = await conn.sobject('Contact').create(batch, { allowRecursive: true });
  expect(Array.isArray(results) && results.length === 250, 'collections create did not return 250 results', results.length);
  const bad = results.filter((r) => !r.success || !isId(r.id, '003'));
  expect(bad.length === 0, `${bad.length} collection records failed`, bad.slice(0, 3));
  const ids = new Set(results.map((r) => r.id));
  expect(ids.size === 250, 'collections create returned duplicate ids', ids.size);

  step = 'query across pages (queryMore)';
  const soql = `SELECT Id, LastName FROM Contact WHERE LastName LIKE 'JSF-${run}-bulk-%' ORDER BY LastName`;
  const headers = { 'Sforce-Query-Options': 'batchSize=200' };
  const first = await conn.query(soql, { headers });
  expect(first.totalSize === 250, 'query totalSize is not 250', first.totalSize);
  expect(first.done === false && first.nextRecordsUrl, 'a 250-row query with batchSize=200 came back in one page', { done: first.done, n: first.records.length });
  expect(first.records.length > 0 && first.records.length <= 200, 'first page is not between 1 and 200 records', first.records.length);
  const seen = new Set(first.records.map((r) => r.Id));
  let page = first;
  let pages = 1;
  while (!page.done) {
    page = await conn.queryMore(page.nextRecordsUrl, { headers });
    page.records.forEach((r) => seen.add(r.Id));
    pages++;
    expect(pages < 50, 'queryMore never finished');
  }
  expect(seen.size === 250 && [...ids].every((id) => seen.has(id)), 'queryMore did not return exactly the 250 created records', seen.size);

  step = 'query across pages (autoFetch)';
  let fetches = 0;
  const q = conn.query(soql, { autoFetch: true, maxFetch: 10000, headers });
  q.on('fetch', () => fetches++);
  const all = await q;
  expect(all.records.length === 250 && fetches >= 2, 'autoFetch did not gather 250 records over several pages', { n: all.records.length, fetches });
  expect(all.records[0].LastName === `JSF-${run}-bulk-000` && all.records[249].LastName === `JSF-${run}-bulk-249`, 'ORDER BY LastName not honoured across pages',
    [all.records[0].LastName, all.records[249].LastName]);

  step = 'bulk2 insert';
  const bulkInput = [];
  for (let i = 0; i < 20; i++) {
    bulkInput.push({ LastName: `JSF-${run}-bulk2-${i}`, Email: `b${i}.${run}@example.com` });
  }
  bulkInput.push({ FirstName: 'NoLastName', Email: `nolast.${run}@example.com` });
  conn.bulk2.pollInterval = 200;
  conn.bulk2.pollTimeout = 60000;
  const bulk = await conn.bulk2.loadAndWaitForResults({ object: 'Contact', operation: 'insert', input: bulkInput });
  expect(bulk.successfulResults.length === 20, 'bulk2 successfulResults is not 20', bulk.successfulResults.length);
  expect(bulk.successfulResults.every((r) => isId(r.sf__Id, '003')), 'bulk2 successful rows lack sf__Id', bulk.successfulResults[0]);
  expect(bulk.failedResults.length === 1, 'bulk2 failedResults is not 1', bulk.failedResults);
  expect(String(bulk.failedResults[0].sf__Error).startsWith('REQUIRED_FIELD_MISSING'), 'bulk2 failure is not REQUIRED_FIELD_MISSING', bulk.failedResults[0]);
  expect(bulk.unprocessedRecords.length === 0, 'bulk2 left unprocessed records', bulk.unprocessedRecords);
  const bulkCount = await conn.query(`SELECT COUNT() FROM Contact WHERE LastName LIKE 'JSF-${run}-bulk2-%'`);
  expect(bulkCount.totalSize === 20, 'bulk2 rows not queryable', bulkCount.totalSize);

  step = 'required field error';
  try {
    const res = await conn.sobject('Contact').create({ FirstName: 'Missing' });
    fail(`create without LastName succeeded: ${JSON.stringify(res)}`);
  } catch (err) {
    expect(err.errorCode === 'REQUIRED_FIELD_MISSING', 'create without LastName did not fail with REQUIRED_FIELD_MISSING', { name: err.name, errorCode: err.errorCode, message: err.message });
    expect(/LastName/.test(err.message), 'REQUIRED_FIELD_MISSING message does not name LastName', err.message);
  }
  const mixed = await conn.sobject('Contact').create([{ LastName: `JSF-${run}-ok` }, { FirstName: 'Missing' }], { allOrNone: false });
  expect(mixed[0].success === true, 'good record of a mixed collection failed', mixed[0]);
  const perRecord = mixed[1].errors && mixed[1].errors[0];
  expect(mixed[1].success === false && perRecord && (perRecord.statusCode || perRecord.errorCode) === 'REQUIRED_FIELD_MISSING',
    'bad record of a mixed collection lacks REQUIRED_FIELD_MISSING', mixed[1]);

  const final = conn.limitInfo.apiUsage;
  console.log(`jsforcecheck: OK (jsforce ${jsforce.VERSION}, ${pages} queryMore pages, ${fetches} autoFetch pages, API usage ${final.used}/${final.limit})`);
}

main().catch((err) => {
  const cause = err.cause ? ` (cause: ${err.cause.message || err.cause})` : '';
  fail(`${err.name || 'Error'}${err.errorCode ? ` (${err.errorCode})` : ''}: ${err.message}${cause}`);
});
