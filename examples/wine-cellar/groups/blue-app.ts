import { appGroup } from '../servers/tiers.js';

export default appGroup('blue');
