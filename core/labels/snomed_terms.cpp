#include "labels/snomed_terms.h"

#include <algorithm>

namespace e2e::labels {

namespace {

// Codes, terms and abbreviations are the facts of the PhysioNet/CinC Challenge 2021 diagnosis
// mappings (github.com/physionetchallenges/evaluation-2021, dx_mapping_scored.csv and
// dx_mapping_unscored.csv). Terms are written in sentence
// case with the usual ECG capitals (AV, QRS, ST, ...) and obvious typos corrected.
const std::vector<SnomedTerm> kTerms = {
    {"368009", "Heart valve disorder", "HVD", false},
    {"5609005", "Sinus arrest", "SARR", false},
    {"6374002", "Bundle branch block", "BBB", true},
    {"10370003", "Pacing rhythm", "PR", true},
    {"11157007", "Ventricular bigeminy", "VBig", false},
    {"13640000", "Fusion beats", "FB", false},
    {"17338001", "Ventricular premature beats", "VPB", true},
    {"17366009", "Sinus atrium to atrial wandering rhythm", "SAAWR", false},
    {"27885002", "Complete heart block", "CHB", false},
    {"29320008", "Atrioventricular junctional rhythm", "AVJR", false},
    {"39732003", "Left axis deviation", "LAD", true},
    {"47665007", "Right axis deviation", "RAD", true},
    {"49260003", "Idioventricular rhythm", "IR", false},
    {"49578007", "Shortened PR interval", "SPRI", false},
    {"50799005", "Atrioventricular dissociation", "AVD", false},
    {"53741008", "Coronary heart disease", "CHD", false},
    {"54016002", "Mobitz type I (Wenckebach) atrioventricular block", "MoI", false},
    {"54329005", "Anterior myocardial infarction", "AnMI", false},
    {"55827005", "Left ventricular high voltage", "LVHV", false},
    {"55930002", "ST changes", "STC", false},
    {"57054005", "Acute myocardial infarction", "AMI", false},
    {"59118001", "Right bundle branch block", "RBBB", true},
    {"59931005", "T wave inversion", "TInv", true},
    {"60423000", "Sinus node dysfunction", "SND", false},
    {"61277005", "Accelerated idioventricular rhythm", "AIVR", false},
    {"61721007", "Clockwise or counterclockwise vectorcardiographic loop", "CVCL/CCVCL", false},
    {"63593006", "Supraventricular premature beats", "SVPB", true},
    {"65778007", "Sinoatrial block", "SAB", false},
    {"67198005", "Paroxysmal supraventricular tachycardia", "PSVT", false},
    {"74390002", "Wolff-Parkinson-White pattern", "WPW", false},
    {"74615001", "Brady-tachy syndrome", "BTS", false},
    {"75532003", "Ventricular escape beat", "VEsB", false},
    {"77867006", "Decreased QT interval", "SQT", false},
    {"81898007", "Ventricular escape rhythm", "VEsR", false},
    {"82226007", "Diffuse intraventricular block", "DIB", false},
    {"84114007", "Heart failure", "HF", false},
    {"89792004", "Right ventricular hypertrophy", "RVH", false},
    {"106068003", "Atrial rhythm", "ARH", false},
    {"111288001", "Ventricular flutter", "VFL", false},
    {"111975006", "Prolonged QT interval", "LQT", true},
    {"164861001", "Myocardial ischemia", "MIs", false},
    {"164865005", "Myocardial infarction", "MI", false},
    {"164867002", "Old myocardial infarction", "OldMI", false},
    {"164873001", "Left ventricular hypertrophy", "LVH", false},
    {"164884008", "Ventricular ectopics", "VEB", false},
    {"164889003", "Atrial fibrillation", "AF", true},
    {"164890007", "Atrial flutter", "AFL", true},
    {"164895002", "Ventricular tachycardia", "VTach", false},
    {"164896001", "Ventricular fibrillation", "VF", false},
    {"164909002", "Left bundle branch block", "LBBB", true},
    {"164912004", "P wave change", "PWC", false},
    {"164917005", "Q wave abnormal", "QAb", true},
    {"164921003", "R wave abnormal", "RAb", false},
    {"164930006", "ST interval abnormal", "STIAb", false},
    {"164931005", "ST elevation", "STE", false},
    {"164934002", "T wave abnormal", "TAb", true},
    {"164937009", "U wave abnormal", "UAb", false},
    {"164942001", "Fragmented QRS (fQRS) wave", "FQRS", false},
    {"164947007", "Prolonged PR interval", "LPR", true},
    {"164951009", "Abnormal QRS", "abQRS", false},
    {"195042002", "2nd degree AV block", "IIAVB", false},
    {"195060002", "Ventricular pre-excitation", "VPEx", false},
    {"195080001", "Atrial fibrillation and flutter", "AFAFL", false},
    {"195101003", "Wandering atrial pacemaker", "WAP", false},
    {"195126007", "Atrial hypertrophy", "AH", false},
    {"204384007", "Congenital incomplete atrioventricular heart block", "CIAHB", false},
    {"233892002", "Accelerated atrial escape rhythm", "AAR", false},
    {"233897008", "Atrioventricular reentrant tachycardia", "AVRT", false},
    {"233917008", "AV block", "AVB", false},
    {"251120003", "Incomplete left bundle branch block", "ILBBB", false},
    {"251139008", "Suspect arm ECG leads reversed", "ALR", false},
    {"251146004", "Low QRS voltages", "LQRSV", true},
    {"251164006", "Junctional premature complex", "JPC", false},
    {"251166008", "Atrioventricular node reentrant tachycardia", "AVNRT", false},
    {"251168009", "Supraventricular bigeminy", "SVB", false},
    {"251170000", "Blocked premature atrial contraction", "BPAC", false},
    {"251173003", "Atrial bigeminy", "AB", false},
    {"251180001", "Ventricular trigeminy", "VTrig", false},
    {"251182009", "Paired ventricular premature complexes", "VPVC", false},
    {"251187003", "Atrial escape beat", "AED", false},
    {"251198002", "Clockwise rotation", "CR", false},
    {"251199005", "Counterclockwise rotation", "CCR", false},
    {"251200008", "Indeterminate cardiac axis", "ICA", false},
    {"251205003", "Prolonged P wave", "PPW", false},
    {"251223006", "Tall P wave", "TPW", false},
    {"251259000", "High T voltage", "HTV", false},
    {"251266004", "Ventricular pacing pattern", "VPP", false},
    {"251268003", "Atrial pacing pattern", "AP", false},
    {"253339007", "Right atrial abnormality", "RAAb", false},
    {"253352002", "Left atrial abnormality", "LAA", false},
    {"266249003", "Ventricular hypertrophy", "VH", false},
    {"266257000", "Transient ischemic attack", "TIA", false},
    {"270492004", "1st degree AV block", "IAVB", true},
    {"282825002", "Paroxysmal atrial fibrillation", "PAF", false},
    {"284470004", "Premature atrial contraction", "PAC", true},
    {"314208002", "Rapid atrial fibrillation", "RAF", false},
    {"365413008", "Poor R wave progression", "PRWP", true},
    {"370365005", "Left ventricular strain", "LVS", false},
    {"413444003", "Acute myocardial ischemia", "AMIs", false},
    {"413844008", "Chronic myocardial ischemia", "CMI", false},
    {"418818005", "Brugada pattern", "BRU", false},
    {"425419005", "Inferior ischaemia", "IIs", false},
    {"425623009", "Lateral ischaemia", "LIs", false},
    {"425856008", "Paroxysmal ventricular tachycardia", "PVT", false},
    {"426177001", "Sinus bradycardia", "SB", true},
    {"426183003", "Mobitz type II atrioventricular block", "IIAVBII", false},
    {"426434006", "Anterior ischemia", "AnMIs", false},
    {"426627000", "Bradycardia", "Brady", true},
    {"426648003", "Junctional tachycardia", "JTach", false},
    {"426664006", "Accelerated junctional rhythm", "AJR", false},
    {"426749004", "Chronic atrial fibrillation", "CAF", false},
    {"426761007", "Supraventricular tachycardia", "SVT", false},
    {"426783006", "Sinus rhythm", "NSR", true},
    {"426995002", "Junctional escape", "JE", false},
    {"427084000", "Sinus tachycardia", "STach", true},
    {"427172004", "Premature ventricular contractions", "PVC", true},
    {"427393009", "Sinus arrhythmia", "SA", true},
    {"428417006", "Early repolarization", "ERe", false},
    {"428750005", "Nonspecific ST-T abnormality", "NSSTTA", false},
    {"429622005", "ST depression", "STD", false},
    {"445118002", "Left anterior fascicular block", "LAnFB", true},
    {"445211001", "Left posterior fascicular block", "LPFB", false},
    {"446358003", "Right atrial hypertrophy", "RAH", false},
    {"446813000", "Left atrial hypertrophy", "LAH", false},
    {"698247007", "Cardiac dysrhythmia", "CD", false},
    {"698252002", "Nonspecific intraventricular conduction disorder", "NSIVCB", true},
    {"704997005", "Inferior ST segment depression", "ISTD", false},
    {"713422000", "Atrial tachycardia", "ATach", false},
    {"713426002", "Incomplete right bundle branch block", "IRBBB", true},
    {"713427006", "Complete right bundle branch block", "CRBBB", true},
    {"733534002", "Complete left bundle branch block", "CLBBB", true},
    {"67741000119109", "Left atrial enlargement", "LAE", false},
    {"67751000119106", "Right atrial high voltage", "RAHV", false},
};

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

const std::vector<SnomedTerm>& snomedTerms() { return kTerms; }

const SnomedTerm* findSnomedTerm(const std::string& code) {
  const std::string c = trimmed(code);
  if (c.empty()) return nullptr;
  const auto it = std::find_if(kTerms.begin(), kTerms.end(), [&](const SnomedTerm& t) { return c == t.code; });
  return it == kTerms.end() ? nullptr : &*it;
}

std::string snomedTermText(const std::string& code) {
  if (const SnomedTerm* t = findSnomedTerm(code)) return t->term;
  return "SNOMED " + trimmed(code);
}

std::string snomedDisplayText(const std::string& code) {
  if (const SnomedTerm* t = findSnomedTerm(code)) return std::string(t->term) + " (" + t->code + ")";
  const std::string c = trimmed(code);
  // Free-text diagnoses (LUDB's "Sinus rhythm", a vendor statement) are shown as they are.
  if (c.empty() || c.find_first_not_of("0123456789") != std::string::npos) return c;
  return "SNOMED " + c;
}

}  // namespace e2e::labels
