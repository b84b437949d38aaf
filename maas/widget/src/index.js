// Entry point of /widget.js: defines <maas-trip-planner> (once, however often the script is included).
import { TripPlanner } from "./element.js";

if (!customElements.get("maas-trip-planner")) customElements.define("maas-trip-planner", TripPlanner);

export { TripPlanner };
