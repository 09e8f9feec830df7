export { freePorts } from '../../local/ports.js';
