import { appGroup } from '../servers/tiers.js';

export default appGroup('green');
