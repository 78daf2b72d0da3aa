// The shared file store (labels).
import { groupSpec } from '@forklift/render-crate';
import { fileServerNode } from '../nodes/debian-12.js';

export default groupSpec({ group: 'files', count: 1, roles: ['files'], node: fileServerNode, extends: ['servers/files'] });
