// The load balancer in front of both colors.
import { groupSpec } from '@forklift/render-crate';
import debian12 from '../nodes/debian-12.js';

export default groupSpec({ group: 'lb', count: 1, roles: ['lb'], node: debian12, extends: ['servers/lb'] });
