// Drives the fake org with jsforce 3 (see jsforce_test.go). Argument: the server URL.
const jsforce = require('jsforce');
(async () => {
  const url = process.argv[2];
  const conn = new jsforce.Connection({
    oauth2: { loginUrl: url, clientId: 'casebridge-test-client-id', clientSecret: 'casebridge-test-client-secret' },
    loginUrl: url, version: '62.0',
  });
  await conn.authorize({ grant_type: 'password', username: 'integration@casebridge.example', password: 'test-password' });
  console.log('auth ok', conn.instanceUrl, conn.userInfo && conn.userInfo.id);
  const d = await conn.sobject('vcms__Survivor_Case__c').describe();
  console.log('describe fields', d.fields.length);
  const q = await conn.query("SELECT Id, vcms__External_Key__c, Owner.Email FROM vcms__Survivor_Case__c ORDER BY vcms__External_Key__c");
  console.log('query', q.totalSize, q.records[0].Owner.Email);
  const r = await conn.sobject('vcms__Survivor_Case__c').create({ vcms__External_Key__c: 'js:1', vcms__Stage__c: 'Active' });
  console.log('create', JSON.stringify(r));
  const rs = await conn.sobject('vcms__Survivor_Case__c').create([{ vcms__External_Key__c: 'js:2' }, { vcms__External_Key__c: 'js:3', vcms__Stage__c: 'Open' }], { allOrNone: false });
  console.log('collection create', JSON.stringify(rs));
  const up = await conn.sobject('vcms__Survivor_Case__c').upsert({ vcms__External_Key__c: 'JS:1', vcms__Stage__c: 'Closed' }, 'vcms__External_Key__c');
  console.log('upsert', JSON.stringify(up));
  const ups = await conn.sobject('vcms__Assistance__c').upsert([{ vcms__External_Service_Key__c: 'js:a:1', vcms__Case__r: { vcms__External_Key__c: 'js:1' }, vcms__Service_Type__c: 'Shelter' }], 'vcms__External_Service_Key__c');
  console.log('upsert many', JSON.stringify(ups));
  const rec = await conn.sobject('vcms__Survivor_Case__c').retrieve(r.id);
  console.log('retrieve', rec.vcms__Stage__c, rec.SystemModstamp);
  const del = await conn.sobject('vcms__Survivor_Case__c').destroy(r.id);
  console.log('delete', JSON.stringify(del));
  try { await conn.query("SELECT Id FROM Nope__c"); } catch (e) { console.log('query error', e.errorCode || e.name, JSON.stringify(e.message)); }
  try { await conn.sobject('vcms__Survivor_Case__c').create({ vcms__Stage__c: 'Open' }); } catch (e) { console.log('create error', e.errorCode || e.name, e.message); }
  const all = await conn.query("SELECT Id, IsDeleted FROM vcms__Survivor_Case__c WHERE IsDeleted = true", { scanAll: true });
  console.log('queryAll', all.totalSize);
  const lim = await conn.limits();
  console.log('limits', JSON.stringify(lim.DailyApiRequests), JSON.stringify(conn.limitInfo));
  // paging
  const many = []; for (let i = 0; i < 2100; i++) many.push({ Name: 'Test JS ' + i });
  for (let i = 0; i < many.length; i += 200) await conn.sobject('Account').create(many.slice(i, i + 200));
  // more than one page of the default batch size (2000), followed by autoFetch
  const qres = await conn.query("SELECT Id FROM Account", { autoFetch: true, maxFetch: 10000 });
  if (qres.records.length !== qres.totalSize || qres.totalSize !== 2104) throw new Error('autofetch got ' + qres.records.length + ' of ' + qres.totalSize);
  console.log('autofetch', qres.records.length, qres.totalSize);
  // bulk 2
  const res = await conn.bulk2.loadAndWaitForResults({ object: 'Account', operation: 'insert', input: 'Name\nTest Bulk JS 1\nTest Bulk JS 2\n', pollInterval: 50, pollTimeout: 10000 });
  console.log('bulk2', res.successfulResults.length, res.failedResults.length, JSON.stringify(res.successfulResults[0]));
  const qr = await conn.bulk2.query("SELECT Id, Name FROM Account WHERE Name LIKE 'Test Bulk JS%'", { pollInterval: 50, pollTimeout: 10000 });
  const rows = await qr.toArray();
  console.log('bulk2 query', rows.length, JSON.stringify(rows[0]));
  // soap login
  const c2 = new jsforce.Connection({ loginUrl: url, version: '62.0' });
  await c2.login('integration@casebridge.example', 'test-password');
  console.log('soap login', c2.userInfo.id, c2.instanceUrl);
})().catch(e => { console.error('FAILED', e); process.exit(1); });
