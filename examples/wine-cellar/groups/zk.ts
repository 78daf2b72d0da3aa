// ZooKeeper (one node; the crate makes an ensemble of 3 or 5 when the group has that many).
import { groupSpec } from '@forklift/render-crate';
import debian12 from '../nodes/debian-12.js';

export default groupSpec({ group: 'zk', count: 1, roles: ['zk'], node: debian12, extends: ['servers/zk'] });
