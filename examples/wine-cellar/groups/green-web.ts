import { webGroup } from '../servers/tiers.js';

export default webGroup('green');
