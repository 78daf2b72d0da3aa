import { dbGroup } from '../servers/tiers.js';

export default dbGroup('green');
