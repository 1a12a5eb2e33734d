package main

// Templates and word lists of the generator (a subset of
// scripts/bench/search/words.go). {slot}s are filled by textGen.fill.

var postsEN = []string{
	"Road closure: {street} between {street} and {street} will be closed {day} from {time} to {time} for sewer repairs. Please use {street} as a detour.",
	"Crews filled {num} potholes on {street} this week. Report a pothole with the city app or call {phone}.",
	"The City Council meeting is {day} at {time} in council chambers at City Hall. Agenda items include the {fy} budget, a rezoning request on {street}, and public comment.",
	"{park} Park playground reopens {day} after renovation. New swings, shade structures and an accessible ramp. Dogs must stay on leash.",
	"The {branch} Library hosts {event} on {day} at {time}. Free for all ages; library card sign-ups at the front desk.",
	"Snow plows are out on priority routes. Please move vehicles off {street} so crews can clear it. Ice is expected overnight.",
	"Water main break on {street}. Customers between {street} and {street} may see low pressure or discolored water until {time}.",
	"Trash and recycling pickup is delayed one day this week because of the {holiday} holiday. Bulk waste collection resumes {day}.",
	"Traffic safety reminder: school zones on {street} are enforced from {time} to {time}. Slow down and watch for crossing guards.",
	"Fire crews responded to a structure fire near {street} and {street}. No injuries reported. Check your smoke alarms monthly.",
	"The proposed {fy} budget is online. Residents can comment at the budget hearing {day} at {time} or by email to the City Council.",
	"Building permit applications are now online. Construction projects over ${num},000 need a permit; inspections can be scheduled the same week.",
	"Join us for {event} at {park} Park on {day}! Food trucks, live music and activities for kids from {time} to {time}.",
	"Bus route {route} is detoured around {street} for construction through next month. Stops at {street} are temporarily closed.",
	"Severe weather warning: heavy rain and possible flooding tonight. Avoid low-water crossings and sign up for emergency alerts.",
	"We're hiring! {dept} is accepting applications for seasonal positions through {day}. Apply on the city jobs page.",
	"Street sweeping on {street} starts {day} at {time}. Vehicles left on the street may be ticketed.",
	"The city council approved the new parks master plan. Read the plan and the meeting minutes on our website.",
}

var postsES = []string{
	"Cierre de calle: {street} estará cerrada el {day} de {time} a {time} por reparaciones. Use {street} como desvío.",
	"La reunión del Concejo Municipal es el {day} a las {time} en el Ayuntamiento. Habrá interpretación en español.",
	"Aviso: corte de agua en {street} hasta las {time}. Gracias por su paciencia. Más información en el sitio web de la ciudad.",
	"La biblioteca {branch} ofrece clases de inglés gratis los {day}. ¡Inscríbase hoy!",
}

var commentsEN = []string{
	"When will {street} reopen?",
	"Thank you to the crews working out there in the cold!",
	"There is still a huge pothole at {street} and {street}. It's been there for months.",
	"Why is the council voting on this during work hours?",
	"My trash was not picked up again on {street}.",
	"Can dogs go to the new playground?",
	"Great job, {first}!",
	"This is a waste of taxpayer money.",
	"Is the library open on {day}?",
	"The water on {street} is still brown this morning.",
	"Who do I call about a streetlight out on {street}?",
	"Any update on the construction schedule?",
	"Please fix the sidewalk on {street} before someone gets hurt.",
	"The detour signs on {street} are confusing.",
	"Will the meeting be streamed online?",
	"Snow still hasn't been plowed on {street}.",
	"Budget hearing should be in the evening so working people can come.",
}

var commentsES = []string{
	"¿Cuándo abren la calle {street}?",
	"Gracias por la información.",
	"¿Dónde puedo pedir más información sobre el presupuesto?",
	"El agua en {street} sigue sucia.",
}

var tentative = []string{
	"Date and time are tentatively set and may change.",
	"Location tentatively {park} Park, to be confirmed.",
}

var updates = []string{
	"UPDATE: this has been rescheduled to {day} at {time}.",
	"UPDATE: crews finished early and {street} is open again.",
	"EDIT: corrected the phone number, call {phone}.",
}

var emoji = []string{"🚧", "🌳", "❄️", "📚", "🎉", "💧", "🚒", "👍", "❤️", "😡", "🙏"}

var daysEN = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
var daysES = []string{"lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"}

var streets = []string{"Main St", "Center St", "State St", "1300 N", "2000 W", "Oak Ave", "Maple Dr", "Park Blvd", "5th Ave",
	"Canyon Rd", "Elm St", "Birch Ln", "Harvest Way", "Pioneer Rd", "Lakeview Dr", "Cedar Ct", "Willow Cir", "Aspen Ave"}
var parks = []string{"Heritage", "Riverside", "Pioneer", "Freedom", "Centennial", "Jordan", "Sunset", "Veterans"}
var branches = []string{"Main", "West Side", "Eastgate", "Northridge", "Downtown"}
var events = []string{"story time", "a summer concert", "the farmers market", "movie night", "a job fair", "the 5K fun run"}
var holidays = []string{"Thanksgiving", "Christmas", "New Year's", "Memorial Day", "Independence Day", "Labor Day"}

var firstNames = []string{"James", "Maria", "Robert", "Linda", "Michael", "Ana", "David", "Sarah", "José", "Emily",
	"Daniel", "Jessica", "Carlos", "Ashley", "Matthew", "Sofía", "Anthony", "Megan", "Luis", "Rachel"}
var surnames = []string{"Smith", "Johnson", "Garcia", "Miller", "Davis", "Martinez", "Lopez", "Wilson", "Anderson", "Taylor",
	"Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Young", "Allen"}

// headWords are the frequent words of filler sentences, most frequent
// first; a short generated tail follows them (vocabSize words in all).
var headWords = []string{
	"the", "to", "and", "a", "of", "in", "is", "for", "on", "that", "it", "with", "this", "be", "are", "at",
	"you", "we", "our", "your", "will", "from", "have", "not", "can", "all", "they", "by", "please", "city",
	"so", "just", "but", "about", "more", "if", "there", "people", "what", "when", "one", "been", "out", "up",
	"time", "would", "like", "who", "new", "residents", "community", "thank", "thanks", "day", "week", "now",
	"here", "how", "no", "get", "need", "also", "still", "year", "work", "road", "street", "park", "help",
	"today", "great", "good", "see", "know", "than", "very", "every", "other", "information", "water", "public",
	"safety", "family", "families", "kids", "school", "home", "neighbors", "neighborhood", "traffic", "parking",
	"event", "events", "update", "meeting", "council", "mayor", "service", "services", "program", "free",
	"open", "closed", "hours", "schedule", "team", "crews", "staff", "local", "downtown", "area", "project",
	"plan", "support", "volunteers", "summer", "winter", "spring", "fall", "weekend", "morning", "evening",
	"tax", "taxes", "money", "cost", "fees", "pay", "bill", "online", "website", "app", "email", "phone",
	"call", "report", "permit", "business", "housing", "development", "zoning", "homes", "rent", "police",
	"fire", "emergency", "health", "library", "books", "trail", "bike", "walk", "sidewalk", "lights",
	"signal", "intersection", "speed", "drivers", "bus", "transit", "garbage", "recycling", "trees", "snow",
	"ice", "rain", "storm", "budget", "vote", "election", "volunteer", "festival", "music", "food", "market",
}

var syllables = []string{"ka", "lo", "mi", "ran", "te", "vo", "shi", "bel", "dor", "an", "ex", "qui", "zor", "vath",
	"lin", "mar", "ta", "pel", "gri", "son", "wen", "dal", "fro", "nu", "ost", "ry", "bra", "cel", "hu", "jan"}
