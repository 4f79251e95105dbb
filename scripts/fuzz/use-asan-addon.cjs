// Preload (node -r) that makes the library load build-asan/'s addon instead of
// build/'s: it answers node-gyp-build's lookup with the sanitized binary.
const Module = require('node:module');
const { join } = require('node:path');

const addonPath = process.env.GST_WEBRTC_NODE_ADDON_PATH ?? join(__dirname, '..', '..', 'build-asan', 'build', 'Release', 'gst_webrtc_node.node');
const originalLoad = Module._load;
Module._load = function load(request, parent, isMain) {
  if (request === 'node-gyp-build') return () => originalLoad.call(this, addonPath, parent, isMain);
  return originalLoad.call(this, request, parent, isMain);
};
