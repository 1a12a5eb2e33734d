package records

import "slices"

// Request statuses (REFERENCE.md §1, a synthesis of the anchors' states).
const (
	StatusReceived              = "received"
	StatusInReview              = "in_review"
	StatusAwaitingClarification = "awaiting_clarification"
	StatusAwaitingPayment       = "awaiting_payment"
	StatusExtraordinary         = "extraordinary_circumstances"
	StatusFulfilled             = "fulfilled"
	StatusFulfilledInPart       = "fulfilled_in_part"
	StatusDenied                = "denied"
	StatusNoRecords             = "no_records"
	StatusWithdrawn             = "withdrawn"
	StatusClosed                = "closed"
	StatusAppealFiled           = "appeal_filed"
	StatusAppealDecided         = "appeal_decided"
	StatusSecondLevelAppeal     = "second_level_appeal"
	StatusFinal                 = "final"
)

// Statuses lists every status in the order a request moves through them.
var Statuses = []string{
	StatusReceived, StatusInReview, StatusAwaitingClarification, StatusAwaitingPayment,
	StatusExtraordinary, StatusFulfilled, StatusFulfilledInPart, StatusDenied, StatusNoRecords,
	StatusWithdrawn, StatusClosed, StatusAppealFiled, StatusAppealDecided, StatusSecondLevelAppeal, StatusFinal,
}

// Pending statuses are those still waiting for the city's response: their
// due date runs, and a calendar change re-dates them.
var Pending = []string{
	StatusReceived, StatusInReview, StatusAwaitingClarification, StatusAwaitingPayment, StatusExtraordinary,
}

// Open statuses are those in the clerk's queue: pending ones and appeals.
var Open = append(slices.Clone(Pending), StatusAppealFiled, StatusAppealDecided, StatusSecondLevelAppeal)

// Responses are the statuses a lawful response leaves (63G-2-204).
var Responses = []string{StatusFulfilled, StatusFulfilledInPart, StatusDenied, StatusNoRecords, StatusExtraordinary}

// labels are the words residents read for each status.
var labels = map[string]string{
	StatusReceived:              "Received",
	StatusInReview:              "In review",
	StatusAwaitingClarification: "Waiting for your clarification",
	StatusAwaitingPayment:       "Waiting for payment",
	StatusExtraordinary:         "Delayed: extraordinary circumstances",
	StatusFulfilled:             "Fulfilled",
	StatusFulfilledInPart:       "Fulfilled in part",
	StatusDenied:                "Denied",
	StatusNoRecords:             "No records",
	StatusWithdrawn:             "Withdrawn",
	StatusClosed:                "Closed",
	StatusAppealFiled:           "Appeal filed",
	StatusAppealDecided:         "Appeal decided",
	StatusSecondLevelAppeal:     "Appeal to the next level",
	StatusFinal:                 "Final",
}

// Label is the plain-words name of a status.
func Label(status string) string {
	if l, ok := labels[status]; ok {
		return l
	}
	return status
}

// moves is the state machine: from each status, where a clerk may take the
// request by a plain transition. Responses (approve, deny, …) and the
// payment flow have their own actions, which check the same table.
var moves = map[string][]string{
	StatusReceived:              {StatusInReview, StatusAwaitingClarification, StatusAwaitingPayment, StatusWithdrawn},
	StatusInReview:              {StatusAwaitingClarification, StatusAwaitingPayment, StatusWithdrawn},
	StatusAwaitingClarification: {StatusInReview, StatusWithdrawn, StatusClosed},
	StatusAwaitingPayment:       {StatusInReview, StatusWithdrawn, StatusClosed},
	StatusExtraordinary:         {StatusInReview, StatusWithdrawn},
	StatusFulfilled:             {StatusClosed, StatusAppealFiled},
	StatusFulfilledInPart:       {StatusClosed, StatusAppealFiled},
	StatusDenied:                {StatusClosed, StatusAppealFiled},
	StatusNoRecords:             {StatusClosed, StatusAppealFiled},
	StatusWithdrawn:             {StatusClosed},
	StatusClosed:                {StatusInReview}, // reopened
	StatusAppealFiled:           {StatusAppealDecided},
	StatusAppealDecided:         {StatusSecondLevelAppeal, StatusFinal},
	StatusSecondLevelAppeal:     {StatusFinal},
	StatusFinal:                 {StatusClosed},
}

// CanMove reports whether a plain transition from → to is allowed.
func CanMove(from, to string) bool { return slices.Contains(moves[from], to) }

// Moves lists the plain transitions allowed from a status.
func Moves(from string) []string { return moves[from] }

// CanRespond reports whether a response may be given in this status: while
// pending, and again after a reopening.
func CanRespond(status string) bool { return slices.Contains(Pending, status) }

// IsPending reports whether the request still waits for a response.
func IsPending(status string) bool { return slices.Contains(Pending, status) }
