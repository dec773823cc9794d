package awssim

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rdsAPIVersion is the only Version the RDS query API accepts.
const rdsAPIVersion = "2014-10-31"

const rdsXMLNS = "http://rds.amazonaws.com/doc/2014-10-31/"

func init() {
	registerService(serviceDef{name: "rds", protocol: ProtoQuery, handle: (*Sim).serveRDS})
}

// DBInstance is an RDS DB instance. Guarded by Sim.mu.
type DBInstance struct {
	ID            string
	Region        string
	ARN           string
	ResourceID    string
	Class         string
	Engine        string
	EngineVersion string
	// Status uses RDS's vocabulary: creating, available, modifying,
	// stopping, stopped, starting, deleting (then the instance is gone).
	Status string
	next   string
	nextAt time.Time

	MasterUsername    string
	DBName            string
	AllocatedStorage  int
	StorageType       string
	Iops              int
	MultiAZ           bool
	AZ                string
	Port              int
	CreateTime        time.Time
	BackupRetention   int
	BackupWindow      string
	MaintenanceWindow string
	// PendingClass is a class change waiting for the maintenance window
	// (ModifyDBInstance without ApplyImmediately) or, while Status is
	// modifying, the class being applied.
	PendingClass string
	// pendingAt is when a deferred class change starts being applied.
	pendingAt time.Time
	Tags      []Tag
	Profile   Profile
	// Seed drives the profile's utilisation for this DB instance.
	Seed int64
}

// rdsState is one account-region's RDS records.
type rdsState struct {
	dbs map[string]*DBInstance
}

func newRDSState() *rdsState { return &rdsState{dbs: map[string]*DBInstance{}} }

// DBInstances returns copies of the DB instances of account in region, by
// identifier, with due transitions applied; CloudWatch reads them to
// generate AWS/RDS metrics.
func (s *Sim) DBInstances(account, region string) []DBInstance {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.region(account, region)
	st := regionExt(rs, "rds", newRDSState)
	st.settle(s, account, rs, s.Now())
	out := make([]DBInstance, 0, len(st.dbs))
	for _, db := range st.sorted() {
		c := *db
		c.Tags = slices.Clone(db.Tags)
		out = append(out, c)
	}
	return out
}

func (st *rdsState) sorted() []*DBInstance {
	out := slices.Collect(maps.Values(st.dbs))
	slices.SortFunc(out, func(a, b *DBInstance) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// settle applies every RDS transition that is due at now, each at the
// instant it was due, and registers the ones still pending with rs.due so
// the region's settling wakes for them. Caller holds s.mu.
func (st *rdsState) settle(s *Sim, account string, rs *RegionState, now time.Time) {
	for _, db := range st.sorted() {
		for s.settleDBStep(account, rs.Name, db, now) {
		}
		if db.Status == dbDeleted {
			delete(st.dbs, db.ID)
			continue
		}
		if db.next != "" {
			rs.due(db.nextAt)
		}
		if db.PendingClass != "" && !db.pendingAt.IsZero() {
			rs.due(db.pendingAt)
		}
	}
}

// settleDBStep applies db's earliest due transition, reporting whether
// there was one.
func (s *Sim) settleDBStep(account, region string, db *DBInstance, now time.Time) bool {
	switch {
	case db.next != "" && !now.Before(db.nextAt):
		state, at := db.next, db.nextAt
		db.next = ""
		s.setDBStatus(account, region, db, state, at)
		return true
	case db.next == "" && db.Status == "available" && db.PendingClass != "" && !db.pendingAt.IsZero() && !now.Before(db.pendingAt):
		// The maintenance window opened: apply the deferred change.
		s.setDBStatus(account, region, db, "modifying", db.pendingAt)
		return true
	}
	return false
}

// dbDeleted is the status a deleting instance reaches when it is gone:
// settle removes it, so no call ever shows it.
const dbDeleted = "deleted"

// setDBStatus moves db to status at time at, schedules the follow-up of
// transitional states and records the change. Caller holds s.mu.
func (s *Sim) setDBStatus(account, region string, db *DBInstance, status string, at time.Time) {
	db.Status = status
	kind := EventState
	switch status {
	case "creating", "starting":
		db.next, db.nextAt = "available", at.Add(s.opts.StateDelay)
	case "stopping":
		db.next, db.nextAt = "stopped", at.Add(s.opts.StateDelay)
	case "deleting":
		db.next, db.nextAt = dbDeleted, at.Add(s.opts.StateDelay)
		db.PendingClass, db.pendingAt = "", time.Time{}
	case dbDeleted:
		kind = EventDeleted
	case "modifying":
		// Multi-AZ: the standby is modified first, then fails over and
		// the old primary is modified: two turns.
		d := s.opts.StateDelay
		if db.MultiAZ {
			d *= 2
		}
		db.next, db.nextAt = "available", at.Add(d)
	case "available":
		// Leaving modifying completes the pending class change, whether it
		// was applied immediately or in the maintenance window.
		if db.PendingClass != "" && (db.pendingAt.IsZero() || !at.Before(db.pendingAt)) {
			db.Class, db.PendingClass, db.pendingAt = db.PendingClass, "", time.Time{}
			kind = EventModified
		}
	}
	s.recordEvent(dbEvent(account, region, db, kind, at))
}

func dbEvent(account, region string, db *DBInstance, kind EventKind, at time.Time) Event {
	tags := make(map[string]string, len(db.Tags))
	for _, t := range db.Tags {
		tags[t.Key] = t.Value
	}
	return Event{
		Time: at, Account: account, Region: region, Service: "rds", ResourceType: "db-instance",
		ResourceID: db.ID, Kind: kind, State: db.Status, Type: db.Class, SizeGiB: db.AllocatedStorage,
		Iops: db.Iops, Profile: db.Profile, Tags: tags,
		Attrs: map[string]string{
			"engine": db.Engine, "multi-az": strconv.FormatBool(db.MultiAZ),
			"storage-type": db.StorageType, "availability-zone": db.AZ,
		},
	}
}

func (s *Sim) serveRDS(rc *Request) {
	action := rc.Form.Get("Action")
	if rc.Form == nil || action == "" {
		rc.WriteError(Errorf("MissingAction", "the request must contain the parameter Action (form-encoded body)"))
		return
	}
	handler, ok := rdsActions[action]
	if !ok {
		rc.WriteError(Errorf("InvalidAction", "could not find operation %s for version %s", action, rdsAPIVersion))
		return
	}
	if v := rc.Form.Get("Version"); v != rdsAPIVersion {
		rc.WriteError(Errorf("InvalidParameterValue", "Version %q is not supported; RDS serves %s", v, rdsAPIVersion))
		return
	}
	if !s.admit(rc, action) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.region(rc.Account, rc.Region)
	st := regionExt(rs, "rds", newRDSState)
	st.settle(s, rc.Account, rs, rc.Now)
	result, aerr := handler(s, rc, rs, st)
	if aerr != nil {
		rc.WriteError(aerr)
		return
	}
	rc.WriteXML(http.StatusOK, rdsResponse{
		XMLName: xml.Name{Local: action + "Response"}, XMLNS: rdsXMLNS,
		Result: result, RequestID: rc.RequestID,
	})
}

type rdsAction func(s *Sim, rc *Request, rs *RegionState, st *rdsState) (any, *APIError)

var rdsActions map[string]rdsAction

func init() {
	rdsActions = map[string]rdsAction{
		"CreateDBInstance":       (*Sim).rdsCreate,
		"DescribeDBInstances":    (*Sim).rdsDescribe,
		"ModifyDBInstance":       (*Sim).rdsModify,
		"StopDBInstance":         (*Sim).rdsStop,
		"StartDBInstance":        (*Sim).rdsStart,
		"DeleteDBInstance":       (*Sim).rdsDelete,
		"AddTagsToResource":      (*Sim).rdsAddTags,
		"RemoveTagsFromResource": (*Sim).rdsRemoveTags,
		"ListTagsForResource":    (*Sim).rdsListTags,
	}
}

// rdsResponse is the awsquery envelope; Result is nil for actions without
// an output shape.
type rdsResponse struct {
	XMLName   xml.Name
	XMLNS     string `xml:"xmlns,attr"`
	Result    any
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

var (
	// AWS: 1-63 letters, digits or hyphens; first a letter; no trailing
	// hyphen or two consecutive hyphens. Stored lower-case.
	dbIdentifierPattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9]*(-[a-zA-Z0-9]+)*$`)
	dbClassPattern      = regexp.MustCompile(`^db\.[a-z0-9]+\.[a-z0-9]+$`)
	masterUserPattern   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,15}$`)
	windowPattern       = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):([0-5][0-9])-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):([0-5][0-9])$`)
)

// rdsEngines lists the engines the simulator creates, with the default
// version and port AWS picks when the request names none.
var rdsEngines = map[string]struct {
	version string
	port    int
}{
	"mysql":    {"8.0.39", 3306},
	"postgres": {"16.4", 5432},
	"mariadb":  {"10.11.9", 3306},
}

func dbIdentifier(form url.Values, name string) (string, *APIError) {
	id := form.Get(name)
	if id == "" {
		return "", Errorf("MissingParameter", "The request must contain the parameter %s", name)
	}
	if len(id) > 63 || !dbIdentifierPattern.MatchString(id) {
		return "", Errorf("InvalidParameterValue",
			"The parameter %s is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.", name)
	}
	return strings.ToLower(id), nil
}

// checkDBClass refuses a malformed class as RDS does, and a well-formed
// one RDS does not offer (the pricing catalogue's classes are the one list
// of those that exist) with the combination error RDS gives for both
// CreateDBInstance and ModifyDBInstance.
func checkDBClass(class, engine, version string) *APIError {
	if !dbClassPattern.MatchString(class) {
		return Errorf("InvalidParameterValue", "Invalid DB Instance class: %s", class)
	}
	cat, err := typeCatalogue()
	if err != nil {
		return &APIError{Status: http.StatusInternalServerError, Code: "InternalError", Message: fmt.Sprintf("loading the instance class catalogue: %v", err)}
	}
	if !cat.DBClassOffered(class) {
		return Errorf("InvalidParameterCombination",
			"RDS does not support creating a DB instance with the following combination: DBInstanceClass=%s, Engine=%s, EngineVersion=%s, LicenseModel=%s. For supported combinations of instance class and database engine version, see the documentation.",
			class, engine, version, licenseModel(engine))
	}
	return nil
}

func dbNotFound(id string) *APIError {
	return &APIError{Status: http.StatusNotFound, Code: "DBInstanceNotFound", Message: fmt.Sprintf("DBInstance %s not found.", id)}
}

func (s *Sim) rdsCreate(rc *Request, rs *RegionState, st *rdsState) (any, *APIError) {
	f := rc.Form
	id, aerr := dbIdentifier(f, "DBInstanceIdentifier")
	if aerr != nil {
		return nil, aerr
	}
	class := f.Get("DBInstanceClass")
	if class == "" {
		return nil, Errorf("MissingParameter", "The request must contain the parameter DBInstanceClass")
	}
	engine := f.Get("Engine")
	if engine == "" {
		return nil, Errorf("MissingParameter", "The request must contain the parameter Engine")
	}
	eng, ok := rdsEngines[engine]
	if !ok {
		return nil, Errorf("InvalidParameterValue", "Invalid DB engine: %s", engine)
	}
	version := f.Get("EngineVersion")
	if version == "" {
		version = eng.version
	}
	if aerr := checkDBClass(class, engine, version); aerr != nil {
		return nil, aerr
	}
	storage, ok, aerr := OptionalInt(f, "AllocatedStorage", 20, 65536)
	if aerr != nil {
		return nil, aerr
	}
	if !ok {
		return nil, Errorf("InvalidParameterValue", "Invalid storage size for engine name %s and storage type gp2: 0", engine)
	}
	user := f.Get("MasterUsername")
	if user == "" {
		return nil, Errorf("InvalidParameterValue", "The parameter MasterUsername must be provided and must not be blank.")
	}
	if !masterUserPattern.MatchString(user) {
		return nil, Errorf("InvalidParameterValue", "MasterUsername %s is not a valid identifier: 1-16 letters, digits or underscores, starting with a letter.", user)
	}
	manage, aerr := OptionalBool(f, "ManageMasterUserPassword")
	if aerr != nil {
		return nil, aerr
	}
	pw := f.Get("MasterUserPassword")
	switch {
	case manage && pw != "":
		return nil, Errorf("InvalidParameterCombination", "You can't specify MasterUserPassword when ManageMasterUserPassword is enabled.")
	case !manage && pw == "":
		return nil, Errorf("InvalidParameterValue", "The parameter MasterUserPassword must be provided and must not be blank.")
	case !manage && (len(pw) < 8 || len(pw) > 41 || strings.ContainsAny(pw, `/"@ `)):
		return nil, Errorf("InvalidParameterValue", "The parameter MasterUserPassword is not a valid password. Only printable ASCII characters besides '/', '@', '\"', ' ' may be used, and it must be 8 to 41 characters long.")
	}
	multiAZ, aerr := OptionalBool(f, "MultiAZ")
	if aerr != nil {
		return nil, aerr
	}
	az := f.Get("AvailabilityZone")
	if multiAZ && az != "" {
		return nil, Errorf("InvalidParameterCombination", "Requesting a specific availability zone is not valid for Multi-AZ instances.")
	}
	if az == "" {
		az = rs.Name + "a"
	} else if !strings.HasPrefix(az, rs.Name) || len(az) != len(rs.Name)+1 {
		return nil, Errorf("InvalidParameterValue", "Invalid availability zone: %s", az)
	}
	storageType := f.Get("StorageType")
	if storageType == "" {
		storageType = "gp2"
	}
	iops, hasIops, aerr := OptionalInt(f, "Iops", 1000, 256000)
	if aerr != nil {
		return nil, aerr
	}
	switch storageType {
	case "gp2", "standard":
		if hasIops {
			return nil, Errorf("InvalidParameterCombination", "You can't specify IOPS or storage throughput for engine %s and a storage type of %s.", engine, storageType)
		}
	case "gp3":
	case "io1", "io2":
		if !hasIops {
			return nil, Errorf("InvalidParameterCombination", "You must specify IOPS for storage type %s.", storageType)
		}
	default:
		return nil, Errorf("InvalidParameterValue", "Invalid storage type: %s", storageType)
	}
	port, hasPort, aerr := OptionalInt(f, "Port", 1150, 65535)
	if aerr != nil {
		return nil, aerr
	}
	if !hasPort {
		port = eng.port
	}
	retention, hasRetention, aerr := OptionalInt(f, "BackupRetentionPeriod", 0, 35)
	if aerr != nil {
		return nil, aerr
	}
	if !hasRetention {
		retention = 1
	}
	mw := strings.ToLower(f.Get("PreferredMaintenanceWindow"))
	if mw == "" {
		mw = "sun:05:00-sun:05:30"
	} else if !windowPattern.MatchString(mw) {
		return nil, Errorf("InvalidParameterValue", "Invalid maintenance window format: %s. Expected ddd:hh24:mi-ddd:hh24:mi", mw)
	}
	tags, aerr := TagList(f, "Tags.Tag")
	if aerr != nil {
		return nil, aerr
	}
	if _, exists := st.dbs[id]; exists {
		return nil, Errorf("DBInstanceAlreadyExists", "DB instance already exists")
	}
	db := &DBInstance{
		ID:                id,
		ARN:               fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", rs.Name, rc.Account, id),
		Region:            rs.Name,
		ResourceID:        s.dbiResourceID(),
		Class:             class,
		Engine:            engine,
		EngineVersion:     version,
		MasterUsername:    user,
		DBName:            f.Get("DBName"),
		AllocatedStorage:  storage,
		StorageType:       storageType,
		Iops:              iops,
		MultiAZ:           multiAZ,
		AZ:                az,
		Port:              port,
		CreateTime:        rc.Now.Add(-s.opts.Backfill),
		BackupRetention:   retention,
		BackupWindow:      "03:00-03:30",
		MaintenanceWindow: mw,
		Tags:              mergeTags(nil, tags),
		Seed:              resourceSeed(s.opts.Seed, id),
	}
	db.Profile = tagProfile(db.Tags)
	st.dbs[id] = db
	// A backfilled instance has existed (and been available) since
	// Options.Backfill ago, so CloudWatch and Cost Explorer have its past.
	s.setDBStatus(rc.Account, rs.Name, db, "creating", db.CreateTime)
	st.settle(s, rc.Account, rs, rc.Now)
	return struct {
		XMLName  xml.Name `xml:"CreateDBInstanceResult"`
		Instance xmlDBInstance
	}{Instance: s.dbXML(db)}, nil
}

// dbiResourceID returns an id like RDS's DbiResourceId: "db-" and 26
// upper-case letters or digits. Caller holds s.mu.
func (s *Sim) dbiResourceID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := []byte("db-")
	for range 26 {
		b = append(b, alphabet[s.rng.IntN(len(alphabet))])
	}
	return string(b)
}

// mergeTags merges add into cur: a key given again replaces its value, as
// AddTagsToResource does.
func mergeTags(cur, add []Tag) []Tag {
	out := slices.Clone(cur)
	for _, t := range add {
		if i := slices.IndexFunc(out, func(o Tag) bool { return o.Key == t.Key }); i >= 0 {
			out[i].Value = t.Value
			continue
		}
		out = append(out, t)
	}
	return out
}

// tagProfile reads the utilisation profile the fleet generator conveys
// through ProfileTag. AWS accepts any tag value, so an unknown one leaves
// the default profile rather than failing the call.
func tagProfile(tags []Tag) Profile {
	for _, t := range tags {
		if t.Key == ProfileTag {
			if p, err := ParseProfile(t.Value); err == nil {
				return p
			}
		}
	}
	return ""
}

// rdsMarker pages by the last identifier returned; opaque to callers.
func rdsMarker(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("rds:" + lastID))
}

func parseRDSMarker(m string) (string, *APIError) {
	raw, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil || !strings.HasPrefix(string(raw), "rds:") {
		return "", Errorf("InvalidParameterValue", "Invalid Marker: %s", m)
	}
	return strings.TrimPrefix(string(raw), "rds:"), nil
}

// dbRef resolves an identifier or a DB instance ARN to a lower-case id.
func dbRef(v, region, account string) string {
	if rest, ok := strings.CutPrefix(v, fmt.Sprintf("arn:aws:rds:%s:%s:db:", region, account)); ok {
		return strings.ToLower(rest)
	}
	return strings.ToLower(v)
}

func (s *Sim) rdsDescribe(rc *Request, rs *RegionState, st *rdsState) (any, *APIError) {
	f := rc.Form
	maxRecords, ok, aerr := OptionalInt(f, "MaxRecords", 20, 100)
	if aerr != nil {
		return nil, aerr
	}
	if !ok {
		maxRecords = 100
	}
	filters, aerr := Filters(f, "Filters.Filter", "Values.Value")
	if aerr != nil {
		return nil, aerr
	}
	match := func(*DBInstance) bool { return true }
	for _, flt := range filters {
		vals := flt.Values
		if len(vals) == 0 {
			return nil, Errorf("InvalidParameterValue", "Filter %s must have at least one value", flt.Name)
		}
		prev := match
		var pick func(*DBInstance) string
		switch flt.Name {
		case "db-instance-id":
			for i, v := range vals {
				vals[i] = dbRef(v, rs.Name, rc.Account)
			}
			pick = func(db *DBInstance) string { return db.ID }
		case "engine":
			pick = func(db *DBInstance) string { return db.Engine }
		case "dbi-resource-id":
			pick = func(db *DBInstance) string { return db.ResourceID }
		case "db-cluster-id", "domain":
			pick = func(*DBInstance) string { return "" }
		default:
			return nil, Errorf("InvalidParameterValue", "Unrecognized filter name: %s", flt.Name)
		}
		match = func(db *DBInstance) bool { return prev(db) && slices.Contains(vals, pick(db)) }
	}
	var list []*DBInstance
	if raw := f.Get("DBInstanceIdentifier"); raw != "" {
		id := dbRef(raw, rs.Name, rc.Account)
		db, ok := st.dbs[id]
		if !ok {
			return nil, dbNotFound(id)
		}
		list = []*DBInstance{db}
	} else {
		list = st.sorted()
	}
	list = slices.DeleteFunc(list, func(db *DBInstance) bool { return !match(db) })
	if m := f.Get("Marker"); m != "" {
		after, aerr := parseRDSMarker(m)
		if aerr != nil {
			return nil, aerr
		}
		if i := slices.IndexFunc(list, func(db *DBInstance) bool { return db.ID > after }); i >= 0 {
			list = list[i:]
		} else {
			list = nil
		}
	}
	out := struct {
		XMLName   xml.Name        `xml:"DescribeDBInstancesResult"`
		Instances []xmlDBInstance `xml:"DBInstances>DBInstance"`
		Marker    string          `xml:"Marker,omitempty"`
	}{Instances: []xmlDBInstance{}}
	if len(list) > maxRecords {
		list = list[:maxRecords]
		out.Marker = rdsMarker(list[len(list)-1].ID)
	}
	for _, db := range list {
		out.Instances = append(out.Instances, s.dbXML(db))
	}
	return out, nil
}

// lookupDB finds the DB instance named by the DBInstanceIdentifier parameter.
func lookupDB(rc *Request, rs *RegionState, st *rdsState) (*DBInstance, *APIError) {
	raw := rc.Form.Get("DBInstanceIdentifier")
	if raw == "" {
		return nil, Errorf("MissingParameter", "The request must contain the parameter DBInstanceIdentifier")
	}
	id := dbRef(raw, rs.Name, rc.Account)
	db, ok := st.dbs[id]
	if !ok {
		return nil, dbNotFound(id)
	}
	return db, nil
}

func (s *Sim) rdsModify(rc *Request, rs *RegionState, st *rdsState) (any, *APIError) {
	db, aerr := lookupDB(rc, rs, st)
	if aerr != nil {
		return nil, aerr
	}
	applyNow, aerr := OptionalBool(rc.Form, "ApplyImmediately")
	if aerr != nil {
		return nil, aerr
	}
	class := rc.Form.Get("DBInstanceClass")
	if class != "" {
		if aerr := checkDBClass(class, db.Engine, db.EngineVersion); aerr != nil {
			return nil, aerr
		}
	}
	if db.Status != "available" {
		return nil, Errorf("InvalidDBInstanceState", "Database instance is not in available state.")
	}
	if ferr := s.faults.takeFailNext("rds", "ModifyDBInstance", db.ID, rc.Protocol); ferr != nil {
		return nil, ferr
	}
	if class != "" && class != db.Class {
		db.PendingClass = class
		if applyNow {
			db.pendingAt = time.Time{}
			s.setDBStatus(rc.Account, rs.Name, db, "modifying", rc.Now)
		} else {
			db.pendingAt = nextWindowStart(db.MaintenanceWindow, rc.Now)
		}
		st.settle(s, rc.Account, rs, rc.Now)
	}
	return struct {
		XMLName  xml.Name `xml:"ModifyDBInstanceResult"`
		Instance xmlDBInstance
	}{Instance: s.dbXML(db)}, nil
}

var rdsWeekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// nextWindowStart returns the first start of the weekly UTC window
// "ddd:hh:mm-ddd:hh:mm" strictly after now. The window was validated when
// it was stored.
func nextWindowStart(window string, now time.Time) time.Time {
	m := windowPattern.FindStringSubmatch(window)
	h, _ := strconv.Atoi(m[2])
	mi, _ := strconv.Atoi(m[3])
	now = now.UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), h, mi, 0, 0, time.UTC)
	day = day.AddDate(0, 0, (int(rdsWeekdays[m[1]])-int(day.Weekday())+7)%7)
	if !day.After(now) {
		day = day.AddDate(0, 0, 7)
	}
	return day
}

func (s *Sim) rdsStop(rc *Request, rs *RegionState, st *rdsState) (any, *APIError) {
	db, aerr := lookupDB(rc, rs, st)
	if aerr != nil {
		return nil, aerr
	}
	if db.Status != "available" {
		return nil, Errorf("InvalidDBInstanceState", "Instance %s is not in available state.", db.ID)
	}
	s.setDBStatus(rc.Account, rs.Name, db, "stopping", rc.Now)
	st.settle(s, rc.Account, rs, rc.Now)
	return struct {
		XMLName  xml.Name `xml:"StopDBInstanceResult"`
		Instance xmlDBInstance
	}{Instance: s.dbXML(db)}, nil
}

func (s *Sim) rdsStart(rc *Request, rs *RegionState, st *rdsState) (any, *APIError) {
	db, aerr := lookupDB(rc, rs, st)
	if aerr != nil {
		return nil, aerr
	}
	if db.Status != "stopped" {
		return nil, Errorf("InvalidDBInstanceState", "Instance %s is not stopped, it is currently in %s state.", db.ID, db.Status)
	}
	s.setDBStatus(rc.Account, rs.Name, db, "starting", rc.Now)
	st.settle(s, rc.Account, rs, rc.Now)
	return struct {
		XMLName  xml.Name `xml:"StartDBInstanceResult"`
		Instance xmlDBInstance
	}{Instance: s.dbXML(db)}, nil
}

// rdsDelete starts deleting a DB instance: it is deleting for StateDelay,
// then gone (DBInstanceNotFound). As RDS, it wants either a final
// snapshot's identifier or SkipFinalSnapshot, not both; the simulator
// keeps no DB snapshots, so the final snapshot is accepted and not stored.
func (s *Sim) rdsDelete(rc *Request, rs *RegionState, st *rdsState) (any, *APIError) {
	db, aerr := lookupDB(rc, rs, st)
	if aerr != nil {
		return nil, aerr
	}
	skip, aerr := OptionalBool(rc.Form, "SkipFinalSnapshot")
	if aerr != nil {
		return nil, aerr
	}
	if _, aerr := OptionalBool(rc.Form, "DeleteAutomatedBackups"); aerr != nil {
		return nil, aerr
	}
	final := rc.Form.Get("FinalDBSnapshotIdentifier")
	switch {
	case !skip && final == "":
		return nil, Errorf("InvalidParameterCombination", "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.")
	case skip && final != "":
		return nil, Errorf("InvalidParameterCombination", "FinalDBSnapshotIdentifier can not be specified when SkipFinalSnapshot is enabled.")
	case final != "":
		if _, aerr := dbIdentifier(rc.Form, "FinalDBSnapshotIdentifier"); aerr != nil {
			return nil, aerr
		}
	}
	if db.Status == "deleting" {
		return nil, Errorf("InvalidDBInstanceState", "Instance %s is already being deleted.", db.ID)
	}
	s.setDBStatus(rc.Account, rs.Name, db, "deleting", rc.Now)
	out := struct {
		XMLName  xml.Name `xml:"DeleteDBInstanceResult"`
		Instance xmlDBInstance
	}{Instance: s.dbXML(db)}
	st.settle(s, rc.Account, rs, rc.Now)
	return out, nil
}

// taggedDB resolves the ResourceName ARN of the tagging actions.
func taggedDB(rc *Request, rs *RegionState, st *rdsState) (*DBInstance, *APIError) {
	arn := rc.Form.Get("ResourceName")
	if arn == "" {
		return nil, Errorf("MissingParameter", "The request must contain the parameter ResourceName")
	}
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) != 7 || parts[0] != "arn" || parts[2] != "rds" || parts[5] != "db" {
		return nil, Errorf("InvalidParameterValue", "Invalid resource name: %s", arn)
	}
	if parts[3] != rs.Name || parts[4] != rc.Account {
		return nil, dbNotFound(parts[6])
	}
	db, ok := st.dbs[strings.ToLower(parts[6])]
	if !ok {
		return nil, dbNotFound(parts[6])
	}
	return db, nil
}

func (s *Sim) rdsAddTags(rc *Request, rs *RegionState, st *rdsState) (any, *APIError) {
	db, aerr := taggedDB(rc, rs, st)
	if aerr != nil {
		return nil, aerr
	}
	tags, aerr := TagList(rc.Form, "Tags.Tag")
	if aerr != nil {
		return nil, aerr
	}
	merged := mergeTags(db.Tags, tags)
	if len(merged) > 50 {
		return nil, Errorf("TagQuotaPerResourceExceeded", "a resource can have at most 50 tags")
	}
	db.Tags = merged
	db.Profile = tagProfile(db.Tags)
	s.recordEvent(dbEvent(rc.Account, rs.Name, db, EventModified, rc.Now))
	return nil, nil
}

// rdsRemoveTags removes TagKeys.member.N; keys the instance lacks are
// ignored, as RDS does.
func (s *Sim) rdsRemoveTags(rc *Request, rs *RegionState, st *rdsState) (any, *APIError) {
	db, aerr := taggedDB(rc, rs, st)
	if aerr != nil {
		return nil, aerr
	}
	keys, aerr := IndexedList(rc.Form, "TagKeys.member")
	if aerr != nil {
		return nil, aerr
	}
	if len(keys) == 0 {
		return nil, Errorf("MissingParameter", "The request must contain the parameter TagKeys")
	}
	db.Tags = slices.DeleteFunc(slices.Clone(db.Tags), func(t Tag) bool { return slices.Contains(keys, t.Key) })
	db.Profile = tagProfile(db.Tags)
	s.recordEvent(dbEvent(rc.Account, rs.Name, db, EventModified, rc.Now))
	return nil, nil
}

func (s *Sim) rdsListTags(rc *Request, rs *RegionState, st *rdsState) (any, *APIError) {
	db, aerr := taggedDB(rc, rs, st)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		XMLName xml.Name    `xml:"ListTagsForResourceResult"`
		Tags    []rdsXMLTag `xml:"TagList>Tag"`
	}{Tags: rdsXMLTags(db.Tags)}, nil
}

type rdsXMLTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func rdsXMLTags(tags []Tag) []rdsXMLTag {
	out := make([]rdsXMLTag, 0, len(tags))
	for _, t := range tags {
		out = append(out, rdsXMLTag(t))
	}
	return out
}

// xmlDBInstance is the DBInstance shape of the RDS 2014-10-31 model, in the
// model's member order, limited to what the simulator tracks.
type xmlDBInstance struct {
	XMLName                    xml.Name `xml:"DBInstance"`
	DBInstanceIdentifier       string
	DBInstanceClass            string
	Engine                     string
	DBInstanceStatus           string
	MasterUsername             string
	DBName                     string       `xml:",omitempty"`
	Endpoint                   *xmlEndpoint `xml:",omitempty"`
	AllocatedStorage           int
	InstanceCreateTime         string `xml:",omitempty"`
	PreferredBackupWindow      string
	BackupRetentionPeriod      int
	DBSecurityGroups           struct{}
	VpcSecurityGroups          struct{}
	DBParameterGroups          []xmlParamGroup `xml:"DBParameterGroups>DBParameterGroup"`
	AvailabilityZone           string
	PreferredMaintenanceWindow string
	PendingModifiedValues      struct {
		DBInstanceClass string `xml:",omitempty"`
	}
	MultiAZ                          bool
	EngineVersion                    string
	AutoMinorVersionUpgrade          bool
	LicenseModel                     string
	Iops                             int `xml:",omitempty"`
	PubliclyAccessible               bool
	StorageType                      string
	DbInstancePort                   int
	StorageEncrypted                 bool
	DbiResourceId                    string
	CACertificateIdentifier          string
	CopyTagsToSnapshot               bool
	MonitoringInterval               int
	DBInstanceArn                    string
	IAMDatabaseAuthenticationEnabled bool
	PerformanceInsightsEnabled       bool
	DeletionProtection               bool
	TagList                          []rdsXMLTag `xml:"TagList>Tag"`
	BackupTarget                     string
	NetworkType                      string
}

type xmlEndpoint struct {
	Address      string
	Port         int
	HostedZoneId string
}

type xmlParamGroup struct {
	DBParameterGroupName string
	ParameterApplyStatus string
}

// rdsTime formats timestamps as RDS does (ISO 8601, milliseconds, UTC).
func rdsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// engineFamily names the default parameter group, e.g. default.mysql8.0.
func engineFamily(engine, version string) string {
	parts := strings.Split(version, ".")
	if engine == "postgres" {
		return "default.postgres" + parts[0]
	}
	if len(parts) > 1 {
		return "default." + engine + parts[0] + "." + parts[1]
	}
	return "default." + engine + version
}

func (s *Sim) dbXML(db *DBInstance) xmlDBInstance {
	x := xmlDBInstance{
		DBInstanceIdentifier:       db.ID,
		DBInstanceClass:            db.Class,
		Engine:                     db.Engine,
		DBInstanceStatus:           db.Status,
		MasterUsername:             db.MasterUsername,
		DBName:                     db.DBName,
		AllocatedStorage:           db.AllocatedStorage,
		PreferredBackupWindow:      db.BackupWindow,
		BackupRetentionPeriod:      db.BackupRetention,
		DBParameterGroups:          []xmlParamGroup{{DBParameterGroupName: engineFamily(db.Engine, db.EngineVersion), ParameterApplyStatus: "in-sync"}},
		AvailabilityZone:           db.AZ,
		PreferredMaintenanceWindow: db.MaintenanceWindow,
		MultiAZ:                    db.MultiAZ,
		EngineVersion:              db.EngineVersion,
		AutoMinorVersionUpgrade:    true,
		LicenseModel:               licenseModel(db.Engine),
		Iops:                       db.Iops,
		StorageType:                db.StorageType,
		DbiResourceId:              db.ResourceID,
		CACertificateIdentifier:    "rds-ca-rsa2048-g1",
		DBInstanceArn:              db.ARN,
		TagList:                    rdsXMLTags(db.Tags),
		BackupTarget:               "region",
		NetworkType:                "IPV4",
	}
	x.PendingModifiedValues.DBInstanceClass = db.PendingClass
	if db.Status != "creating" {
		// The endpoint and creation time appear once the instance exists.
		x.Endpoint = &xmlEndpoint{
			Address:      fmt.Sprintf("%s.c%010x.%s.rds.amazonaws.com", db.ID, uint32(db.Seed), db.Region),
			Port:         db.Port,
			HostedZoneId: "Z2R2ITUGPM61AM",
		}
		x.InstanceCreateTime = rdsTime(db.CreateTime)
	}
	return x
}

func licenseModel(engine string) string {
	if engine == "postgres" {
		return "postgresql-license"
	}
	return "general-public-license"
}
