// Lead arithmetic shared by the ECG readers. No Qt.
#pragma once
#include <string>

#include "common/types.h"

namespace e2e {

// Completes a group that stores only I and II (and the chest leads) with the four limb leads
// devices do not store: III = II - I, aVR = -(I + II)/2, aVL = I - II/2, aVF = II - I/2
// (Einthoven and Goldberger). Leads the group already has are left alone. Each added channel
// has unit, sensitivity and filters of lead I and codeMeaning "derived: <formula>"; the
// group's extra facts are not touched. Returns the number of leads added (0 when I or II is
// missing, or their lengths differ). Channels are then ordered I, II, III, aVR, aVL, aVF,
// V1..V6, others after in their original order.
int deriveLimbLeads(EcgGroup& group);

// Adds `derived` to record.extra["derivedLeads"] (comma-separated, no duplicates), for every
// group where deriveLimbLeads added leads; call after it. Returns the number of groups touched.
int deriveLimbLeads(EcgRecord& record);

// Reorders channels to the standard 12-lead order (others after, in their order).
void sortStandardLeadOrder(EcgGroup& group);

}  // namespace e2e
