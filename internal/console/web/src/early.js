// Imported first by main.jsx, so it runs before the modules after it
// (Preact, uPlot) are evaluated and before the first render: the reads the
// first view needs start now, in parallel, instead of one after the other
// from the views' effects (the session, then the overview).
import { startEarly } from "./api.js";

// currentView is the view the location's hash names (#/inventory...).
export const currentView = () => location.hash.slice(2) || "overview";

startEarly("session");
if (currentView() === "overview") startEarly("overview");
