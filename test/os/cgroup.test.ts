// @tsv/os cgroup.ts: finding cgroup2 in mountinfo (hybrid and pure-v2 hosts, a container's
// namespace root), our own cgroup from /proc/PID/cgroup, the names given to service dirs, and
// the key-value files. Pure inputs: the texts the kernel writes.
import t from 'tap';
import { cgroup2Mount, cgroupName, ownCgroup, ownCgroupDir, parseKeyed } from '@tsv/os';

const HYBRID = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');
const PURE = '29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot';
const BIND = '500 400 0:26 /system.slice/box.service /sys/fs/cgroup rw shared:9 master:4 - cgroup2 cgroup2 rw';

t.test('the cgroup2 mount: hybrid, pure v2 (optional fields), a bind of a subtree', async (t) => {
  t.same(cgroup2Mount(HYBRID), { mount: '/sys/fs/cgroup/unified', root: '/' });
  t.same(cgroup2Mount(PURE), { mount: '/sys/fs/cgroup', root: '/' });
  t.same(cgroup2Mount(BIND), { mount: '/sys/fs/cgroup', root: '/system.slice/box.service' });
  t.equal(cgroup2Mount('31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw'), null, 'v1 only: none');
  t.same(cgroup2Mount('41 31 0:38 / /mnt/with\\040blank rw - cgroup2 cgroup2 rw'), { mount: '/mnt/with blank', root: '/' }, 'octal escapes');
});

t.test('our own cgroup and its directory', async (t) => {
  t.equal(ownCgroup('4:memory:/x\n0::/\n'), '/');
  t.equal(ownCgroup('0::/system.slice/tsv.service\n'), '/system.slice/tsv.service');
  t.equal(ownCgroup('1:name=systemd:/\n'), null, 'no v2 line');
  t.equal(ownCgroupDir(HYBRID, '0::/\n'), '/sys/fs/cgroup/unified');
  t.equal(ownCgroupDir(PURE, '0::/system.slice/tsv.service\n'), '/sys/fs/cgroup/system.slice/tsv.service');
  t.equal(ownCgroupDir(BIND, '0::/system.slice/box.service/inner\n'), '/sys/fs/cgroup/inner', 'below a bound subtree');
  t.equal(ownCgroupDir('', '0::/\n'), null);
});

t.test('names: readable, valid, one per real path', async (t) => {
  const a = cgroupName('/etc/service/web');
  t.match(a, /^service_web\.[0-9a-f]{10}$/);
  t.not(cgroupName('/srv/service/web'), a, 'same last parts, other path: another name');
  t.equal(cgroupName('/etc/service/web'), a, 'stable');
  t.match(cgroupName('/tmp/we ird/n/a:me'), /^n_a_me\.[0-9a-f]{10}$/, 'no blanks, colons or slashes');
  t.ok(cgroupName(`/x/${'y'.repeat(300)}`).length <= 91, 'short enough for NAME_MAX');
});

t.test('key-value files', async (t) => {
  const m = parseKeyed('populated 1\nfrozen 0\n');
  t.equal(m.get('populated'), 1);
  t.equal(m.get('frozen'), 0);
  t.equal(parseKeyed('usage_usec 12345\nuser_usec 1\n').get('usage_usec'), 12345);
});
