// The addon, found the way native modules conventionally find theirs (node-gyp-build): a build
// from source (build/Release) if there is one, else the prebuilt binary for this platform and
// architecture (prebuilds/linux-x64/, prebuilds/linux-arm64/), which the published package
// ships (scripts/pack.mjs) so that installing it needs no compiler.
module.exports = require('node-gyp-build')(__dirname);
