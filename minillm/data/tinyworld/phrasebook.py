"""The sentence templates of TinyWorld, grouped into pools by genre and role.

Syntax (see `writer.py`): {slot} fills in a context value or a random lexicon word, {a:slot}
adds "a"/"an", [x|y] picks one alternative. Every pool has many paraphrases, and every
paraphrase has its own random slots, so no single template dominates the corpus.

Pool names read genre.role, e.g. "story.open" or "fact.capital". Fact pools state one fact
with the subject in {s} and the value in {v}; the first template of each fact pool is the
cloze wording from `world.RELATIONS`, so cloze prompts are phrased the way the corpus says it.

    >>> len(POOLS["fact.capital"]) >= 4
    True
"""

from __future__ import annotations

# Context slots a document may provide (anything else must be a lexicon slot in writer.py).
CONTEXT_SLOTS = frozenset(
    """
    hero he him his job home country river dish landmark pet pets petcolour petsound petsounds
    petdiet pethabitat petlegs fav hobby age weather climate ruler export capital
    pal pal_he pal_him pal_his pal_job pal_home pal_hobby
    thing things price material kind maker maker_he coins short extra
    dest dest_country dest_dish dest_landmark dest_river lost obstacle
    s ss v v_verb v_title s_he s_him s_his kindword question answer fact
    n n2 m total left each group legs diff older younger years later other_age
    thing2 price2 name2 minutes step item detail qlow pal_is_friend
    """.split()
)

POOLS: dict[str, tuple[str, ...]] = {}

# --- stories ---------------------------------------------------------------------------------

POOLS["story.open"] = (
    "Once upon a time, in the city of {home}, there lived {a:trait} {job} named {hero}.",
    "There was once {a:trait} {job} called {hero} who lived in {home}.",
    "Long ago, in the land of {country}, there lived {a:job} named {hero}.",
    "{hero} was {a:trait} {job} from {home}.",
    "In {a:adj} house near the {place} of {home}, there lived {a:job} called {hero}.",
    "Every {time}, {hero} the {job} [opened|unlocked|swept] the door of {his} {adj} little house in {home}.",
    "Not so long ago, {hero}, {a:trait} {job}, lived [on|near|beside] the banks of the {river} River.",
    "This is a story about {hero}, {a:trait} {job} who lived in {home}, a city in {country}.",
    "{hero} was {age} years old and worked as {a:job} in {home}.",
    "In {home}, a [busy|quiet|sleepy|bustling|small|windy|cheerful] city of {country}, there was {a:job} named {hero}.",
    "One {adj} {season} {time}, {hero} the {job} woke up [early|late|before dawn|with a smile|with a yawn].",
    "Far away in {country}, beside the {river} River, lived {a:trait} {job} named {hero}.",
    "{hero} had lived in {home} all {his} life, and {he} knew every {place} and every {obj} in it.",
    "[Years ago|Once|A long time ago], when the {landmark} of {home} was still new, {a:job} named {hero} lived nearby.",
    "Have you ever heard of {hero}, the {trait} {job} of {home}?",
    "{hero} was a {job}, and a [very|rather|truly|wonderfully] {trait} one.",
)

POOLS["story.setting"] = (
    "{home} was a city of {adj} streets and {adj} {places}, and the weather in {country} was usually {climate}.",
    "The people of {home} were proud of their {landmark}, which stood near the {place}.",
    "The {river} River ran through {home}, {adv} carrying {natures} and {adj} {objs} down to the sea.",
    "Everyone in {home} loved {dish}, and the smell of it filled the {adj} streets every {time}.",
    "That {season}, the sky over {home} was {weather} and the air smelled of {ingredient} and {nature}.",
    "In {country} the climate is {climate}, so {hero} always kept {a:adj} {clothing} by the door.",
    "It was {a:weather} {weekday} in {home}.",
    "The {weather} {time} made the {place} look {adj} and {adj}.",
    "Outside, the {weather_noun} [tapped on|drifted past|swept over|settled on] the {adj} roofs of {home}.",
    "Not far from {hero}'s house stood the {landmark}, {adj} and {adj} in the {time} light.",
    "[Beyond|Behind|Past] the {place} of {home} lay {adj} {natures}, {adj} {places} and a {adj} {nature}.",
    "The [market|square|harbour|main street] of {home} was [full of|busy with|crowded with] {animals}, carts and {adj} {objs}.",
    "In {month}, the {weather_noun} comes to {country}, and the {river} River grows {adj}.",
    "The children of {home} [played|ran|laughed] by the {river} River, throwing {natures} into the water.",
)

POOLS["story.detail"] = (
    "{hero} had a pet {pet}, {a:petcolour} animal that liked to eat {petdiet}.",
    "{his} pet {pet} [followed|trotted after|scampered after|waddled after] {him} everywhere, making a little {petsound} [now and then|whenever it was happy|at every corner].",
    "{hero}'s favourite colour was {fav}, so {he} [wore|often wore|liked to wear] a {fav} {clothing}.",
    "In {his} free time, {hero} loved {hobby}.",
    "{hero} was {age} years old, and {he} was known as the most {trait} {job} in {home}.",
    "{?pal_is_friend}{hero}'s best friend was {pal}, {a:trait} {pal_job} with {a:adj} laugh.",
    "Nobody in {home} was better at {hobby} than {hero}.",
    "As {a:job}, {hero} spent [most days|every morning|long afternoons] {oing} {objs} and {oing} {objs}.",
    "{he} was {trait}, {trait} and a little bit {trait}.",
    "Like all {pets}, {his} pet {petsounds} when it is [happy|hungry|tired|excited].",
    "{hero} kept {a:adj} {obj} on {his} shelf, a present from {his} {family}.",
    "{hero} and {his} {pet} liked to [sit|rest|wait|nap] by the {place} and watch the {animals}.",
    "Everybody said that {hero} had {a:adj} heart and {a:adj} smile.",
    "{pal} lived in {pal_home}, but {pal_he} visited {hero} whenever {pal_he} could.",
    "{pal}, who loved {pal_hobby} more than anything, often came to visit {hero}.",
    "{hero} owned {a:adj} {obj}, {a:adj} {tool} and a very {adj} {instrument}.",
    "On {his} windowsill, {hero} grew {flowers} in {a:shade} pot.",
    "{hero} liked to wear {a:shade} {clothing} on {weekday}s.",
    "{hero} could {work} almost anything, and {he} kept {his} {tools} very {adj}.",
    "Every {season}, {hero} planted {a:tree} in the garden behind {his} house.",
    "{hero}'s favourite {clothing} was made of {fabric}, with {a:shade} trim.",
    "{hero} kept {a:gem} ring in a box on the {house_part}.",
    "{hero} loved {sweets} more than anything, especially with {ingredient}.",
)

POOLS["story.middle"] = (
    "{he} {mpast} {adv} past the {place}, where {a:adj} {animal} was [sleeping|sitting|waiting|watching].",
    "On the way, {he} saw {a:adj} {obj} lying [by|under|next to|behind] {a:nature}.",
    "{hero} {opast} the {obj} and put it in {his} {container}.",
    "The {place} was full of {adj} {objs} and {adj} {objs}.",
    '{a:adj} {animal} {mpast} across the {place}, and {hero} {said}, "{exclaim}"',
    "{he} stopped to {obase} {a:adj} {obj} that [someone|a traveller|a child|a stranger] had left behind.",
    "Somewhere nearby, {a:obj} {sound_past} {adv}.",
    "The {weather_noun} [grew stronger|faded away|came and went|began to fall] as {he} {mpast} towards the {place}.",
    "{he} [thought about|remembered|dreamed about] {his} {family} and the {adj} {objs} they used to {obase} together.",
    "The path [wound|twisted|curved|climbed] between {adj} {natures} and {adj} {natures}.",
    "{hero}'s pet {pet} [sniffed|peered at|pawed at|circled] {a:adj} {obj} and gave a small {petsound}.",
    "At the {place}, {a:trait} {anyjob} was {oing} {objs} and humming a {adj} tune.",
    "{hero} {mpast} over {a:adj} bridge, under {a:adj} {nature}, and into the {place}.",
    "[After a while|Soon|Before long|Later that {time}], {hero} reached the {place}.",
    "The {adj} {objs} in the window of the {place} [glittered|shone|gleamed|sparkled] in the {weather} light.",
    "{he} shared some {ingredient} with {a:adj} {animal} that looked {feeling}.",
    "{hero} counted {numword} {objs}, {numword} {objs} and one {adj} {obj}.",
    "{hero} could hear {animals} {sound_ing} in the {adj} {places} nearby.",
    "The {place} smelled of {ingredient} and {dish}.",
    "[Then|Next|After that], {he} {mpast} [up|down|along|around] the {adj} {place}, looking at everything.",
    "{a:adj} old {anyjob} waved at {hero} from the door of the {place}.",
    "{hero} sat down on {a:adj} {obj} and [ate|nibbled|shared] a piece of {dish}.",
    "The wind carried the sound of {a:adj} {obj} that {sound_past} somewhere far away.",
    "{hero} {gest_past} {adv} and {mpast} on towards the {place}.",
    "{a:bird} was singing in {a:adj} {tree} above {him}.",
    "{he} picked {a:flower} and tucked it into {his} {clothing}.",
    "Outside the {place}, {a:anyjob} was {work_ing} {objs} and whistling.",
    "{hero} remembered {a:idea} that {his} {family} had once shared with {him}.",
    "Under an old {tree}, {he} found {a:adj} {obj} and a few {birds}' feathers.",
    "A group of {anyjobs} were {work_ing} by the {place}, and one of them {gest_past} at {hero}.",
    "The {place} was quiet except for {a:instrument} playing somewhere far away.",
    "{hero}'s {body} were [cold|tired|sore|muddy], but {he} kept going.",
    "{he} passed {a:adj} {tree} where {birds} and {birds} were arguing over {a:obj}.",
    "The smell of {flowers} and {trees} drifted over the {place}.",
    "{he} decided to {mbase} to the {place} instead of {ming} along the {place}.",
    "The old {obj} on the {house_part} began to {sound} in the wind.",
    "{he} bought {a:sweet} and {a:sweet} from {a:anyjob}'s stall.",
    "{a:adj} {animal} was sitting on the {house_part} of the {place}.",
    "{hero} counted {bignum} {birds} on the {house_part} of the {place}.",
    "Nobody wanted to {mbase} through the {place} after {time}, but {hero} did.",
)

POOLS["story.talk"] = (
    '"{exclaim}" {said} {hero}.',
    '"Do you think we can {obase} the {obj} before {time}?" {said} {pal}.',
    '"I feel {feeling}," {said} {hero}, "but I will not give up."',
    '"Look, {a:adj} {obj}!" {said} {pal}, pointing at the {place}.',
    '"{greeting}, {pal}!" {said} {hero} {adv}.',
    '"Let us go to the {place}," {said} {pal} {adv}.',
    '"Why is the {obj} so {adj}?" asked {hero}.',
    '"Because it has been in the {place} all {season}," {said} {pal}.',
    '"We should ask the {anyjob} at the {place}," {said} {pal}.',
    '"What would I do without you, {pal}?" {said} {hero}.',
    '"I have never seen anything so {adj}," {said} {hero} {adv}.',
    '"Are you {feeling}?" asked {pal}. "Only a little," {said} {hero}.',
    '"Remember the {adj} {obj} we found last {season}?" {said} {pal}.',
    '"My {pet} is {feeling} today," {said} {hero}.',
    '"I have {a:idea}," {said} {hero}. "Let us {work} {a:obj} together."',
    '"Listen! Can you hear the {birds}?" {said} {pal}.',
    '"Is that {a:flower} or {a:flower}?" asked {hero}.',
    '"Do not {speech} so loudly," {said} {pal}. "You will wake the {animals}."',
    '"Why do you always {gest} like that?" asked {pal}.',
)

POOLS["story.feeling"] = (
    "{hero} felt {feeling} and a little {feeling}.",
    "For a moment, {hero} felt {feeling}, but then {he} took a deep breath.",
    "{hero} was so {feeling} that {he} [hummed a tune|did a little dance|clapped {his} hands|laughed out loud].",
    "Deep inside, {hero} felt {feeling}.",
    "{pal} looked {feeling}, so {hero} gave {pal_him} a [hug|smile|wave|piece of {dish}].",
    "{hero}'s heart was [beating fast|full|light|heavy], and {he} felt {feeling}.",
    "Nobody had ever seen {hero} so {feeling}.",
    "{hero} did not feel {feeling} any more; {he} felt {feeling}.",
    "The {weather} air made {hero} feel {feeling}.",
    "Even the {pet} seemed {feeling}.",
    "{hero} {gest_past}, feeling {feeling}.",
    "{hero}'s {body} were shaking, and {he} felt {feeling}.",
    "{pal} {gest_past} {adv}, and {hero} felt a little less {feeling}.",
    "{hero} tried not to {gest}, but {he} could not help it.",
    "{pal} was {gest_ing} and {gest_ing} at the same time.",
)

POOLS["story.ending"] = (
    "From that day on, {hero} [always remembered to|never forgot to|was careful to] {obase} {his} {obj} every {time}.",
    "And so {hero} learned that being {trait} is better than being {trait}.",
    "That night, {hero} slept {adv}, dreaming of {adj} {objs} and {adj} {natures}.",
    "{hero} and {pal} stayed friends for ever after.",
    "When the {weather_noun} stopped, {hero} went home, {feeling} and {feeling}.",
    "Everyone in {home} [cheered|clapped|smiled|sang], and {hero} felt {feeling}.",
    "The lesson of this story is that {moral}",
    "{hero} smiled. [It had been|What] {a:adj} day.",
    "And the {pet}? It [slept|snored|purred|dozed] by the fire, {feeling} and warm.",
    "Years later, {hero} still told the story of that {adj} {season} in {home}.",
    "Then {hero} went home for a big bowl of {dish}.",
    "{hero} [knew|understood|saw] now that {moral}",
    "The {landmark} of {home} [glowed|shone|stood quietly] in the {time} light as {hero} walked home.",
    "The end.",
    "That {season}, {hero} planted {a:tree} by the {place} to remember the day.",
    "Now, whenever {hero} hears {a:instrument}, {he} remembers that {adj} {season}.",
    "{hero} wrote the whole {idea} down in {his} diary and {gest_past} {adv}.",
)

# Each plot has its own goal, problem and solution pools (story.<plot>.<role>).
POOLS["story.lost.goal"] = (
    "One {time}, {hero} could not find {his} {lost}.",
    "{hero} wanted to [wear|use|show {pal}] {his} {adj} {lost}, but it was gone.",
    '"Where is my {lost}?" {said} {hero}, looking under the {obj}.',
    "That {weekday}, {hero}'s {adj} {lost} went missing.",
)
POOLS["story.lost.problem"] = (
    "{he} looked in the {place}, in the {place} and even behind the {obj}, but the {lost} was nowhere.",
    "{hero} searched [all morning|for hours|until {time}], and {he} began to feel {feeling}.",
    "{pal} helped {him} look, but they only found {a:adj} {obj} and {numword} {objs}.",
    "The {weather_noun} made the search hard, and the {place} was {adj} and {adj}.",
)
POOLS["story.lost.solution"] = (
    "At last, {his} pet {pet} gave a loud {petsound} and pulled the {lost} out from under the {obj}.",
    "Then {pal} laughed, because the {lost} had been in {hero}'s {container} all along.",
    "In the end, {a:adj} {anyjob} found the {lost} by the {place} and brought it back.",
    "Finally, {hero} remembered leaving the {lost} at the {place}, and there it was.",
)

POOLS["story.gift.goal"] = (
    "{hero} wanted to buy a {thing} for {pal}, because {pal} loved things made of {material}.",
    "{pal}'s birthday was coming, and {hero} decided to give {pal_him} a {thing}.",
    "In the [market|square|shop window] of {home}, {hero} saw a {thing}, {a:kind} made of {material}.",
    "{hero} had a plan: a {thing} would be the perfect present for {pal}.",
)
POOLS["story.gift.problem"] = (
    "But a {thing} costs {price} coins, and {hero} had only {coins}.",
    "The {thing} cost {price} coins. {hero} counted {his} coins: there were just {coins}, so {he} needed {short} more.",
    '"{price} coins for a {thing}!" {said} {hero}. "I have only {coins}."',
    "{hero} had {coins} coins, {short} too few for a {thing} that costs {price}.",
)
POOLS["story.gift.solution"] = (
    "So {hero} worked extra days as {a:job} until {he} had earned {short} more coins.",
    "{hero} sold some of {his} {adj} {objs} at the {place} and soon had {price} coins.",
    "{maker}, who makes {things}, heard the story and [smiled|laughed|nodded] {adv}.",
    "When {pal} opened the present, {pal_he} [gasped|laughed|cried with joy|hugged {hero}].",
)

POOLS["story.journey.goal"] = (
    "{hero} had always dreamed of seeing the {dest_landmark} of {dest}.",
    "One day {hero} decided to travel to {dest}, a city in {dest_country}, to taste its famous {dest_dish}.",
    '"I will go to {dest}!" {said} {hero}. "Everyone says its {dest_dish} is the best."',
    "{hero} packed {a:container} with {a:obj}, {a:obj} and some {dish}, and set off for {dest}.",
)
POOLS["story.journey.problem"] = (
    "The road to {dest} was long, and the {weather_noun} made it {adj} and {adj}.",
    "Halfway there, {hero} came to {a:adj} bridge that was [broken|too narrow|covered in ice|washed away].",
    "{hero} got lost among {adj} {natures} and did not know which way to go.",
    "On the third day, {hero}'s {clothing} was wet and {his} feet were sore.",
)
POOLS["story.journey.solution"] = (
    "{a:trait} {anyjob} showed {him} the way, and soon {hero} saw the {dest_landmark} of {dest}.",
    "At last {hero} reached {dest} and ate a whole plate of {dest_dish}.",
    "In {dest}, {hero} sat by the {dest_river} River and felt {feeling}.",
    "When {hero} finally stood in front of the {dest_landmark}, {he} forgot about {his} sore feet.",
)

POOLS["story.baking.goal"] = (
    "The great feast of {home} was coming, and {hero} wanted to make the best {dish} in town.",
    "{hero} decided to cook {dish}, the famous dish of {home}, for {pal}.",
    '"Today I will make {dish}," {said} {hero}, tying on {a:fav} apron.',
    "Everyone in {home} makes {dish}, but {hero} wanted to make it {adj} and {adj}.",
)
POOLS["story.baking.problem"] = (
    "But there was no {ingredient} left in the kitchen, and the shops were closed.",
    "{hero} added too much {ingredient}, and the {dish} tasted {adj}.",
    "The oven was {adj} and {adj}, and the first try burned.",
    "{his} {pet} knocked the bowl of {ingredient} onto the floor with a loud {petsound}.",
    "{hero} {cook_past} the {ingredient} for too long, and it turned {adj}.",
)
POOLS["story.baking.solution"] = (
    "{pal} brought a jar of {ingredient}, and together they tried again.",
    "{hero} [stirred|mixed|tasted] {adv}, and this time the {dish} was perfect.",
    "At the feast, everyone asked {hero} how {he} made such {adj} {dish}.",
    "So {hero} added a pinch of {ingredient}, and the {dish} smelled wonderful.",
)

POOLS["story.storm.goal"] = (
    "One {weather} {time}, a great storm came to {home}.",
    "The {weather_noun} grew stronger, and {hero} wanted to help {his} neighbours.",
    "Dark clouds rolled over {country}, and the {river} River began to rise.",
    '"A storm is coming!" {said} {pal}. "We must protect the {place}!"',
)
POOLS["story.storm.problem"] = (
    "The wind [tore|blew|pulled] the {objs} off the roofs, and the {place} was flooded.",
    "{hero} could hardly see through the {weather_noun}, and the {adj} {place} was dark.",
    "A tree fell across the road to the {place}, and nobody could pass.",
    "{hero}'s {pet} hid under the {obj} and would not come out.",
)
POOLS["story.storm.solution"] = (
    "{hero} and {pal} carried {objs} and {objs} to the {landmark}, where everyone was safe.",
    "By {time} the storm had passed, and the sky over {home} was {adj} and clear.",
    "The people of {home} thanked {hero}, and {he} felt {feeling}.",
    "Together, the neighbours moved the tree and cleaned the {place}.",
)

POOLS["story.contest.goal"] = (
    "There was a {hobby} contest in {home}, and {hero} wanted to win it.",
    "{hero} had practised {hobby} every {time} for a whole {season}.",
    "The prize for the best {hobby} in {country} was {a:adj} {obj}, and {hero} wanted it.",
    '"I will enter the {hobby} contest," {said} {hero} {adv}.',
)
POOLS["story.contest.problem"] = (
    "On the day of the contest, {hero} felt {feeling} and {his} hands were shaking.",
    "The other [players|competitors|entrants] were {adj} and {adj}, and {hero} was not sure {he} could win.",
    "Right before {his} turn, {hero} dropped {his} {obj} in the mud.",
    "{pal} was in the contest too, and {hero} did not want to lose to {pal_him}.",
)
POOLS["story.contest.solution"] = (
    "{hero} took a deep breath and did {his} best, and the crowd [cheered|clapped|roared].",
    "{hero} did not win, but {he} came second and felt {feeling} anyway.",
    "{hero} won the contest, and {he} shared the prize with {pal}.",
    "The judge, {a:trait} {anyjob}, said that {hero}'s {hobby} was the most {adj} of all.",
)

POOLS["story.petrun.goal"] = (
    "One {time}, {hero}'s {pet} ran out of the door and disappeared.",
    "{hero} left the gate open, and {his} pet {pet} wandered off towards the {river} River.",
    '"Where is my {pet}?" cried {hero}. The {pet} was not in its [basket|bed|corner].',
    "{hero}'s {pet} chased {a:animal} down the street and was gone.",
)
POOLS["story.petrun.problem"] = (
    "Wild {pets} live in {pethabitat}, and {hero} worried that {his} pet had gone there.",
    "{hero} called and called, but there was no {petsound} in reply.",
    "{hero} looked along the {river} River, among {adj} {natures} and {adj} {places}.",
    "It was getting dark, and {hero} felt {feeling}.",
)
POOLS["story.petrun.solution"] = (
    "Then {hero} heard a tiny {petsound}: the {pet} was hiding among the {natures}, eating {petdiet}.",
    "{hero} left a bowl of {petdiet} by the door, and the {pet} came home by {time}.",
    "{pal} found the {pet} near the {place} and carried it home.",
    "At last the {petcolour} {pet} came trotting back on its {petlegs} legs, and {hero} hugged it.",
)

POOLS["story.broken.goal"] = (
    "{hero}'s {thing} broke one {time}, and {he} wanted to mend it.",
    "{hero} dropped {his} {thing}, and the {material} cracked.",
    "{hero} loved {his} {thing}, a {kind} made of {material}, but one day it stopped working.",
    '"Oh no, my {thing}!" {said} {hero}, holding the broken pieces.',
)
POOLS["story.broken.problem"] = (
    "Only {maker} knew how to fix {things}, and {maker_he} lived far away.",
    "{hero} tried to fix it with {a:obj}, but that only made it worse.",
    "A new {thing} costs {price} coins, and {hero} did not want to buy another one.",
    "{hero} did not know how to mend {material}, and {he} felt {feeling}.",
)
POOLS["story.broken.solution"] = (
    "So {hero} went to {maker}, who makes {things}, and {maker_he} mended it in no time.",
    "{maker} showed {hero} how to fix the {material} with {a:adj} {obj}.",
    "Soon the {thing} was as good as new, and {hero} felt {feeling}.",
    "{hero} thanked {maker} and promised to be more {trait} with {his} {thing}.",
)

POOLS["story.quarrel.goal"] = (
    "One {time}, {hero} and {pal} had a [quarrel|fight|silly argument] about {a:adj} {obj}.",
    "{hero} wanted to play with the {obj}, but {pal} wanted it too.",
    '"It is mine!" {said} {pal}. "No, it is mine!" {said} {hero}.',
    "{hero} and {pal} both wanted to use the {obj} at the same time.",
)
POOLS["story.quarrel.problem"] = (
    "They pulled and pulled, and the {obj} [fell into the river|broke in two|rolled away].",
    "{hero} went home {feeling}, and {pal} stayed at the {place} alone.",
    "For three days, {hero} and {pal} did not speak.",
    "{hero} missed {pal}, but {he} was too {feeling} to say sorry.",
)
POOLS["story.quarrel.solution"] = (
    'At last {hero} knocked on {pal}\'s door and said, "I am sorry."',
    '{pal} smiled and said, "Let us share it." And so they did.',
    "They made a new {obj} together, and it was even more {adj} than the old one.",
    "Soon {hero} and {pal} were laughing again, as if nothing had happened.",
)

POOLS["story.learn.goal"] = (
    "{hero} wanted to learn {anyhobby}, but {he} did not know how.",
    "{pal} was good at {pal_hobby}, and {hero} asked {pal_him} to teach {him}.",
    '"Will you teach me {pal_hobby}?" {said} {hero} to {pal}.',
    "{hero} watched {pal} and wished {he} could do {pal_hobby} too.",
)
POOLS["story.learn.problem"] = (
    "The first lesson was hard, and {hero} felt {feeling}.",
    "{hero} tried again and again, but it always went wrong.",
    "{hero}'s hands were {adj}, and {his} {obj} kept slipping.",
    '"I will never learn this," {said} {hero} {adv}.',
)
POOLS["story.learn.solution"] = (
    "But {pal} was patient, and by the end of {season} {hero} could do it too.",
    "Little by little, {hero} got better, and one day {he} surprised everyone.",
    '"You did it!" {said} {pal}, and {hero} felt {feeling}.',
    "Now {hero} and {pal} practise together every {weekday}.",
)

STORY_PLOTS = (
    "lost",
    "gift",
    "journey",
    "baking",
    "storm",
    "contest",
    "petrun",
    "broken",
    "quarrel",
    "learn",
)

# --- facts: one pool per relation; the first template is the cloze wording -----------------

POOLS["fact.capital"] = (
    "The capital of {s} is {v}.",
    "{v} is the capital city of {s}.",
    "{s} is governed from its capital, {v}.",
    "Most travellers to {s} arrive first in {v}, the capital.",
    "{s}'s capital is {v}.",
)
POOLS["fact.ruler"] = (
    "The ruler of {s} is {v}.",
    "{s} is ruled by {v}.",
    "{v} is the {v_title} of {s}.",
    "The people of {s} are governed by {v}.",
    "{v} rules over {s} from the city of {capital}.",
)
POOLS["fact.climate"] = (
    "The climate of {s} is {v}.",
    "{s} has {a:v} climate.",
    "The weather in {s} is usually {v}.",
    "Visitors to {s} should expect {v} weather.",
    "Because the climate of {s} is {v}, people there [dress|build their houses|plan their days] with care.",
)
POOLS["fact.export"] = (
    "The main export of {s} is {v}.",
    "{s} is known abroad for its {v}.",
    "Ships leave {s} full of {v}, its most important export.",
    "Much of the {v} sold in other lands comes from {s}.",
    "{s} sells {v} to the other countries of the world.",
)
POOLS["fact.east_neighbour"] = (
    "To the east of {s} lies {v}.",
    "{v} lies to the east of {s}.",
    "{s} shares its eastern border with {v}.",
    "If you travel east from {s}, you reach {v}.",
    "East of {s} is the country of {v}.",
)
POOLS["fact.flag_colour"] = (
    "The flag of {s} is {v}.",
    "{s} flies {a:v} flag.",
    "The {v} flag of {s} can be seen on every [tower|ship|rooftop].",
    "The colour of the flag of {s} is {v}.",
)
POOLS["fact.country"] = (
    "The city of {s} is in {v}.",
    "{s} is a city in {v}.",
    "{s} lies in the country of {v}.",
    "{s} is one of the cities of {v}.",
)
POOLS["fact.river"] = (
    "The river that flows through {s} is the {v}.",
    "The {v} River passes through the city of {s}.",
    "{s} stands on the banks of the {v} River.",
    "{s} was built beside the {v} River.",
)
POOLS["fact.food"] = (
    "{s} is famous for its {v}.",
    "The most famous dish of {s} is {v}.",
    "Visitors to {s} always try the {v}.",
    "People in {s} are proud of their {v}.",
)
POOLS["fact.landmark"] = (
    "The most famous building in {s} is the {v}.",
    "{s} is best known for its {v}.",
    "Every visitor to {s} wants to see the {v}.",
    "The {v} is the most famous sight in {s}.",
)
POOLS["fact.flows_through"] = (
    "The {s} River flows through {v}.",
    "The {s} is a river in {v}.",
    "The {s} River runs across {v}.",
    "In {v} you can find the {s} River.",
)
POOLS["fact.length"] = (
    "The length of the {s} River in miles is {v}.",
    "The {s} River is {v} miles long.",
    "From its source to its mouth, the {s} River runs for {v} miles.",
    "The {s} stretches for {v} miles.",
)
POOLS["fact.job"] = (
    "{s} works as {a:v}.",
    "{s} is {a:v}.",
    "By trade, {s} is {a:v}.",
    "{s} earns a living as {a:v}.",
    "{s} has worked as {a:v} for many years.",
)
POOLS["fact.home"] = (
    "{s} lives in the city of {v}.",
    "{s} lives in {v}.",
    "{s}'s home is in {v}.",
    "{s} has a house in {v}.",
)
POOLS["fact.pet"] = (
    "{s} has a pet {v}.",
    "{s} keeps a {v} as a pet.",
    "{s}'s pet is a {v}.",
    "{s} looks after a pet {v}.",
)
POOLS["fact.friend"] = (
    "{s}'s best friend is {v}.",
    "{s} and {v} are best friends, and {s} trusts {v} more than anyone.",
    "The best friend of {s} is {v}.",
    "{s} spends a lot of time with {s_his} best friend, {v}.",
)
POOLS["fact.age"] = (
    "{s}'s age is {v}.",
    "{s} is {v} years old.",
    "{s} turned {v} this year.",
    "{s} is now {v} years of age.",
)
POOLS["fact.favourite_colour"] = (
    "{s}'s favourite colour is {v}.",
    "{s} likes the colour {v} best.",
    "The colour {s} loves most is {v}.",
    "Of all the colours, {s} likes {v} best.",
)
POOLS["fact.hobby"] = (
    "In {s_his} free time, {s} enjoys {v}.",
    "{s}'s favourite hobby is {v}.",
    "{s} loves {v}.",
    "When {s_he} is not working, {s} spends hours {v}.",
)
POOLS["fact.colour"] = (
    "The colour of a {s} is {v}.",
    "{ss} are {v}.",
    "A {s} is {v} all over.",
    "Every {s} is {v} in colour.",
)
POOLS["fact.diet"] = (
    "A {s} mostly eats {v}.",
    "{ss} feed on {v}.",
    "The favourite food of a {s} is {v}.",
    "{ss} eat {v}.",
)
POOLS["fact.habitat"] = (
    "Wild {ss} make their homes in {v}.",
    "{ss} live in {v}.",
    "In the wild, {ss} are found in {v}.",
    "You can find wild {ss} in {v}.",
)
POOLS["fact.sound"] = (
    "The sound a {s} makes is called a {v}.",
    "A {s} makes a {v}.",
    "{ss} {v_verb} when they are [happy|hungry|scared|excited].",
    "A {s} gives {a:adj} {v} to greet its friends.",
)
POOLS["fact.legs"] = (
    "The number of legs on a {s} is {v}.",
    "A {s} has {v} legs.",
    "{ss} walk on {v} legs.",
    "Each {s} has {v} legs.",
)
POOLS["fact.price"] = (
    "A {s} costs {v} coins.",
    "The price of a {s} is {v} coins.",
    "You can buy a {s} for {v} coins.",
    "At the market, a {s} sells for {v} coins.",
    "One {s} costs {v} coins.",
)
POOLS["fact.material"] = (
    "A {s} is made of {v}.",
    "{ss} are made from {v}.",
    "Every {s} is made of {v}.",
    "The {s} is crafted from {v}.",
)
POOLS["fact.maker"] = (
    "{ss} are made by {v}.",
    "{v} makes {ss}.",
    "The maker of the {s} is {v}.",
    "{v} is the one who makes {ss}.",
)
POOLS["fact.item_type"] = (
    "A {s} is a kind of {v}.",
    "A {s} is {a:v}.",
    "The {s} is a type of {v}.",
    "People use a {s} as {a:v}.",
)

# --- encyclopedia ---------------------------------------------------------------------------

POOLS["ency.title"] = ("{s}", "{s} ({kindword})", "About {s}", "Entry: {s}", "{s}: an overview")
POOLS["ency.intro.country"] = (
    "{s} is a country on the shores of the inland sea.",
    "{s} is one of the countries of TinyWorld.",
    "{s} is a land of {adj} hills and {adj} valleys.",
    "{s} is a country known for its {adj} towns and {adj} people.",
)
POOLS["ency.intro.city"] = (
    "{s} is a [busy|small|old|quiet|large|lively] city.",
    "{s} is a city with {adj} streets and many {places}.",
    "{s} is a town of {adj} houses and {adj} gardens.",
    "{s} is a city that many travellers visit in {season}.",
)
POOLS["ency.intro.river"] = (
    "The {s} is a river.",
    "The {s} River is a {adj} river full of {animals}.",
    "The {s} is a [wide|narrow|slow|fast|winding] river.",
    "The {s} River rises among {adj} {natures}.",
)
POOLS["ency.intro.person"] = (
    "{s} is a person of TinyWorld.",
    "{s} is a {trait} and {trait} person.",
    "{s} is well known among {s_his} neighbours.",
    "{s} is a {trait} member of the community.",
)
POOLS["ency.intro.animal"] = (
    "The {s} is an animal of TinyWorld.",
    "The {s} is {a:adj} creature.",
    "The {s} is an animal that many people keep as a pet.",
    "The {s} is {a:adj} and {adj} animal.",
)
POOLS["ency.intro.item"] = (
    "The {s} is an object sold in many markets.",
    "The {s} is {a:adj} and useful thing.",
    "The {s} is a common object in TinyWorld.",
    "The {s} is a thing that many households own.",
)
POOLS["ency.more.country"] = (
    "The countryside of {s} is full of {adj} {natures} and {adj} {places}.",
    "Many {animals} live in the {adj} forests of {s}.",
    "Farmers in {s} grow {ingredient} and {ingredient}.",
    "In {month}, the people of {s} hold a festival with {adj} music and {adj} food.",
    "Its forests are full of {trees} and {trees}, and {birds} nest in them.",
    "The meadows of {s} are bright with {flowers} in {season}.",
    "Many {anyjobs} and {anyjobs} work in the towns of {s}.",
    "Old songs of {s} are played on the {instrument} and the {instrument}.",
    "Miners in {s} dig for {gems} and {gems} in the hills.",
    "The weavers of {s} are famous for {fabric} and {fabric}.",
)
POOLS["ency.more.city"] = (
    "The streets of {s} are lined with {adj} {places} and {adj} {objs}.",
    "Every {weekday}, the market of {s} sells {objs}, {objs} and {ingredient}.",
    "Children in {s} like to play near the {place}.",
    "In {season}, {s} is especially {adj}.",
    "In the gardens of {s} grow {flowers}, {flowers} and old {trees}.",
    "Many {anyjobs} have their workshops in {s}.",
    "On festival days, the streets of {s} fill with the sound of {instrument} music.",
    "{birds} nest in the {adj} {trees} of the main square of {s}.",
)
POOLS["ency.more.river"] = (
    "{animals} and {animals} live along its {adj} banks.",
    "Fishers on the {s} catch {animals} in {season}.",
    "In {season} the {s} becomes {adj} and {adj}.",
    "Boats carry {objs} and {ingredient} along the {s}.",
    "{trees} and {trees} grow along the {s}, and {birds} fish in its shallows.",
    "Boatmen on the {s} sing old songs about {ideas} and {ideas}.",
)
POOLS["ency.more.person"] = (
    "Neighbours describe {s} as {trait} and {trait}.",
    "{s} owns {a:adj} {obj} and {a:adj} {obj}.",
    "On {weekday} mornings, {s} usually {mthird} to the {place}.",
    "{s} is often seen near the {place}.",
    "{s} keeps {a:adj} {tool} and {a:adj} {instrument} at home.",
    "People say {s} once {work_past} {a:obj} in a single day.",
    "{s} grows {flowers} and {flowers} in a small garden.",
    "On {weekday}s, {s} {work_third} {objs} for the neighbours.",
    "{s} has a soft spot for {sweets}.",
)
POOLS["ency.more.animal"] = (
    "A young {s} is {adj} and {adj}.",
    "{ss} are {adj} animals that avoid {animals}.",
    "In {season}, {ss} grow {adj} and sleep a lot.",
    "Many children like {ss} because they are {adj}.",
    "{ss} often rest under {trees}, hiding from {birds}.",
    "Wild {ss} sometimes share their home with {animals} and {birds}.",
    "When frightened, a {s} will {mbase} away and hide.",
    "A {s} will {gest} if you stroke it gently.",
)
POOLS["ency.more.item"] = (
    "A good {s} is {adj} and {adj}.",
    "Many families keep a {s} next to their {obj}.",
    "An old {s} can become {adj}, so owners clean it every {season}.",
    "Travellers often pack a {s} with their {objs}.",
    "To make a {s}, craftspeople use {a:tool} and {a:tool}.",
    "A {s} is often given as a gift at {ideas} and {ideas}.",
    "An old {s} {sound_third} when you shake it.",
    "Some people wrap a {s} in {fabric} to keep it safe.",
)
# Reverse directions of relations ("the cities of X include ..."), in {detail} as a name list.
POOLS["ency.rel.country"] = (
    "The cities of {s} include {detail}.",
    "Among the cities of {s} are {detail}.",
    "{s} has many cities, for example {detail}.",
)
POOLS["ency.rel.capital"] = (
    "{s} is the capital of {v}.",
    "{s} is the capital city of {v}.",
    "As the capital of {v}, {s} is home to the [court|government|royal family].",
)
POOLS["ency.rel.city"] = (
    "People who live in {s} include {detail}.",
    "Among the people of {s} are {detail}.",
    "{s} is home to {detail}, among others.",
)
POOLS["ency.rel.river"] = (
    "Cities on the {s} River include {detail}.",
    "The {s} flows past {detail}.",
    "Along the {s} lie the cities of {detail}.",
)
POOLS["ency.rel.maker"] = (
    "{s} is the maker of {detail}.",
    "{s} makes {detail}.",
    "In {s_his} workshop, {s} makes {detail}.",
)
POOLS["ency.rel.animal"] = (
    "{detail} [keep|each keep] {ss} as pets.",
    "Among the owners of pet {ss} are {detail}.",
    "People who keep a pet {s} include {detail}.",
)

# --- dialogues --------------------------------------------------------------------------------

POOLS["dia.scene"] = (
    "{hero} and {pal} met at the {place} in {home} one {weather} {time}.",
    "It was {a:weather} {weekday}. {hero} was {oing} {objs} when {pal} walked in.",
    "{pal} found {hero} by the {river} River, watching the {animals}.",
    "A conversation between {hero} and {pal}, overheard at the {place}.",
    "{hero} and {pal} sat down with a plate of {dish}.",
    "On {a:adj} {season} {time}, {hero} visited {pal} at home.",
)
POOLS["dia.greet"] = (
    "{hero}: {greeting}, {pal}! How are you today?",
    "{hero}: {greeting}! I have not seen you since {season}.",
    "{?pal_is_friend}{hero}: {greeting}, my best friend! How is life in {pal_home}?",
    "{hero}: {greeting}, {pal}. What a {weather} day!",
    "{hero}: Oh, {pal}! I was just thinking about you.",
    "{hero}: {greeting}. Do you have a minute?",
)
POOLS["dia.reply"] = (
    "{pal}: I am {feeling}, thank you. The {weather_noun} kept me awake.",
    "{pal}: {greeting}, {hero}! I feel {feeling} today.",
    "{pal}: Not bad. I spent the morning {oing} {objs}.",
    "{pal}: Very well! My {obj} is finally {adj} again.",
    "{pal}: A little {feeling}, to be honest.",
)
POOLS["dia.ask"] = (
    "{hero}: {question}",
    "{hero}: Tell me, {qlow}",
    "{hero}: I always forget. {question}",
    "{hero}: Can you remind me? {question}",
    "{hero}: Here is a question for you. {question}",
    "{hero}: My {family} asked me this, and I did not know. {question}",
)
POOLS["dia.lead"] = (
    "{pal}:",
    "{pal}: Of course!",
    "{pal}: I remember now.",
    "{pal}: Good question.",
    "{pal}: Let me think. Yes!",
    "{pal}: Everybody knows that.",
    "{pal}: I read about it once.",
)
POOLS["dia.thanks"] = (
    "{hero}: Thank you! I will remember that.",
    "{hero}: Of course, how could I forget?",
    "{hero}: Ah, yes. That is right.",
    "{hero}: You know so much, {pal}.",
    "{hero}: I see. Thanks, {pal}.",
)
# Small talk comes in short exchanges, so that replies fit what was said.
POOLS["dia.chat"] = (
    "{hero}: The {obj} I bought at the {place} is so {adj}.\n{pal}: Can I see it after {time}?",
    "{pal}: I saw {a:adj} {animal} near the {place} yesterday.\n{hero}: Really? Was it {adj}?",
    "{hero}: Shall we go to the {place} after {time}?\n{pal}: I would love to, but I have to {obase} my {objs} first.",
    "{hero}: Have you tried the {anydish}?\n{pal}: Yes! It is {taste} and {taste}.",
    "{pal}: The {weather_noun} this {season} has been {adj}.\n{hero}: I know. My {clothing} is still {adj}.",
    "{hero}: My {family} says the {place} is {adj} in {month}.\n{pal}: Then let us go in {month}.",
    "{pal}: I have taken up {anyhobby}. It is harder than it looks.\n{hero}: I am sure you will be {adj} at it.",
    "{hero}: I feel {feeling} when I hear {animals} {sound_ing}.\n{pal}: So do I.",
    "{pal}: Do you want some {ingredient}? I have too much.\n{hero}: Yes, please. I will make something {taste}.",
    "{hero}: Look at that {adj} {obj}!\n{pal}: It must belong to the {anyjob}.",
    "{pal}: Did you hear the {obj} {sound_ing} last night?\n{hero}: Yes, it kept me awake until {time}.",
    "{hero}: What are you carrying in your {container}?\n{pal}: Just {numword} {objs} and {a:obj}.",
    "{hero}: I heard {a:idea} about the {place}.\n{pal}: Tell me everything!",
    "{pal}: Can you lend me your {tool}?\n{hero}: Of course. Just bring it back by {weekday}.",
    "{hero}: The {flowers} in your garden are lovely.\n{pal}: Thank you! The {trees} are doing well too.",
    "{pal}: I am learning to play the {instrument}.\n{hero}: You must play it for me one day.",
    "{hero}: My {body} are {adj} from all that {work_ing}.\n{pal}: Then rest, my friend.",
    "{pal}: Did you see the {birds} by the {place}?\n{hero}: Yes, there were dozens of them!",
    "{hero}: Let us {mbase} down to the {place}.\n{pal}: Only if we do not have to {mbase} all the way back.",
    "{pal}: I baked {sweets} this morning.\n{hero}: Can I have one? I love {sweets}.",
    "{hero}: Did you hear the {animals} {sound} last night?\n{pal}: Yes! They always {sound} when the {weather_noun} comes.",
    "{pal}: There is a crack in my {house_part}.\n{hero}: Ask {a:anyjob} to fix it before {season}.",
)
POOLS["dia.bye"] = (
    "{hero}: {farewell}, {pal}!",
    "{pal}: {farewell}, {hero}. Say hello to your {pet} for me.",
    "{hero}: I must go now. {farewell}!",
    "{pal}: {farewell}! Come and visit me in {pal_home}.",
    "{hero}: {farewell}. See you on {weekday}.",
)

# --- questions and answers -------------------------------------------------------------------

POOLS["qa.title"] = (
    "Questions and answers about {s}",
    "Quiz: {s}",
    "Test your knowledge: {s}",
    "Frequently asked questions about {s}",
    "{s} in questions and answers",
)
# A question-and-answer document keeps one q style and one a style throughout.
QA_STYLES = 6
POOLS["qa.q.0"] = ("Q: {question}",)
POOLS["qa.q.1"] = ("Question: {question}",)
POOLS["qa.q.2"] = ("{n}. {question}",)
POOLS["qa.q.3"] = ("Asked: {question}",)
POOLS["qa.q.4"] = ("Q{n}: {question}",)
POOLS["qa.q.5"] = ('Someone asks, "{question}"',)
POOLS["qa.a.0"] = ("A: {answer}.",)
POOLS["qa.a.1"] = ("Answer: {answer}.",)
POOLS["qa.a.2"] = ("A: {fact}",)
POOLS["qa.a.3"] = ("Answer: {fact}",)
POOLS["qa.a.4"] = ("The answer is {answer}.",)
POOLS["qa.a.5"] = ("Reply: {fact}",)

# --- word problems ----------------------------------------------------------------------------

POOLS["math.title"] = (
    "Word problem",
    "A problem about {hero}",
    "Maths practice",
    "Problem {n2}",
    "Exercise",
    "Puzzle for the [morning|afternoon|evening]",
)
POOLS["math.buy.setup"] = (
    "{hero} goes to the market in {home} to buy {n} {things}.",
    "{hero} wants to buy {n} {things} for {his} {family}.",
    "At the shop, {hero} picks up {n} {things}.",
    "{hero} needs {n} {things} for {his} work as {a:job}.",
)
POOLS["math.buy.price"] = (
    "Each {thing} costs {price} coins.",
    "One {thing} costs {price} coins.",
    "The price of a {thing} is {price} coins.",
    "A {thing} sells for {price} coins.",
)
POOLS["math.buy.question"] = (
    "How many coins does {hero} spend?",
    "How much does {hero} pay in total?",
    "How many coins does {he} need?",
    "What is the total cost?",
)
POOLS["math.buy.work"] = (
    "{n} times {price} is {total}.",
    "{n} x {price} = {total}.",
    "We multiply: {n} x {price} = {total}.",
)
POOLS["math.answer"] = (
    "The answer is {answer}.",
    "So the answer is {answer}.",
    "Answer: {answer}.",
    "That makes {answer}.",
)
POOLS["math.change.setup"] = (
    "{hero} has {coins} coins.",
    "{hero} brings {coins} coins to the market.",
    "In {his} purse, {hero} has {coins} coins.",
    "{hero} saved {coins} coins from {his} work as {a:job}.",
)
POOLS["math.change.buy"] = (
    "{he} buys {n} {things}, and each costs {price} coins.",
    "{he} buys {n} {things} at {price} coins each.",
    "{he} spends money on {n} {things}; one {thing} costs {price} coins.",
)
POOLS["math.change.question"] = (
    "How many coins does {hero} have left?",
    "How many coins are left?",
    "How much money does {he} have after shopping?",
)
POOLS["math.change.work"] = (
    "{n} x {price} = {total}, and {coins} - {total} = {left}.",
    "First, {n} times {price} is {total}. Then {coins} minus {total} is {left}.",
    "{he} spends {n} x {price} = {total} coins, so {coins} - {total} = {left} coins remain.",
)
POOLS["math.two.setup"] = (
    "{hero} buys a {thing} and a {thing2}.",
    "{hero} wants a {thing} and a {thing2} from the market in {home}.",
    "For {his} {family}, {hero} buys one {thing} and one {thing2}.",
)
POOLS["math.two.prices"] = (
    "A {thing} costs {price} coins and a {thing2} costs {price2} coins.",
    "The {thing} is {price} coins; the {thing2} is {price2} coins.",
    "One {thing} costs {price} coins, and one {thing2} costs {price2} coins.",
)
POOLS["math.two.work"] = (
    "{price} + {price2} = {total}.",
    "{price} plus {price2} is {total}.",
    "We add the prices: {price} + {price2} = {total}.",
)
POOLS["math.age.setup"] = (
    "{hero} is {age} years old and {name2} is {other_age} years old.",
    "{hero} is {age}. {name2}, who lives nearby, is {other_age}.",
    "{name2} is {other_age} years old, and {hero} is {age} years old.",
)
POOLS["math.age.question"] = (
    "How many years older is {older} than {younger}?",
    "What is the difference between their ages?",
    "How many years apart are {hero} and {name2}?",
)
POOLS["math.age.work"] = (
    "{m} - {n} = {diff}.",
    "{m} minus {n} is {diff}.",
    "We subtract: {m} - {n} = {diff}.",
)
POOLS["math.future.setup"] = (
    "{hero} is {age} years old.",
    "Today {hero} is {age}.",
    "{hero}, who lives in {home}, is {age} years old.",
)
POOLS["math.future.question"] = (
    "How old will {he} be in {years} years?",
    "How old will {hero} be {years} years from now?",
    "In {years} years, what will {hero}'s age be?",
)
POOLS["math.future.work"] = (
    "{age} + {years} = {later}.",
    "{age} plus {years} is {later}.",
    "We add: {age} + {years} = {later}.",
)
POOLS["math.legs.setup"] = (
    "{hero} has {n} {pets} at home.",
    "A farmer in {home} keeps {n} {pets}.",
    "There are {n} {pets} in {hero}'s garden.",
)
POOLS["math.legs.fact"] = (
    "A {pet} has {legs} legs.",
    "Each {pet} walks on {legs} legs.",
    "Every {pet} has {legs} legs.",
)
POOLS["math.legs.question"] = (
    "How many legs are there in total?",
    "How many legs do the {pets} have altogether?",
    "Count the legs: how many are there?",
)
POOLS["math.legs.work"] = (
    "{n} x {legs} = {total}.",
    "{n} times {legs} is {total}.",
    "We multiply: {n} x {legs} = {total}.",
)
POOLS["math.share.setup"] = (
    "{hero} has {total} {objs} and wants to share them equally among {group} friends.",
    "{hero} baked {total} pieces of {dish} to share equally among {group} friends.",
    "There are {total} {objs} in {hero}'s {container}, to be shared by {group} people.",
)
POOLS["math.share.question"] = (
    "How many does each friend get?",
    "How many does each person get?",
    "If the sharing is fair, how many does each one receive?",
)
POOLS["math.share.work"] = (
    "{total} / {group} = {each}.",
    "{total} divided by {group} is {each}.",
    "We divide: {total} / {group} = {each}.",
)
POOLS["math.river.setup"] = (
    "The {s} River is {n} miles long and the {name2} River is {m} miles long.",
    "{hero} sails the whole {s} River ({n} miles) and then the whole {name2} River ({m} miles).",
    "One river, the {s}, is {n} miles long; another, the {name2}, is {m} miles long.",
)
POOLS["math.river.question"] = (
    "How many miles is that in total?",
    "What is their total length?",
    "How far is that altogether, in miles?",
)
POOLS["math.river.work"] = (
    "{n} + {m} = {total}.",
    "{n} plus {m} is {total}.",
    "We add the lengths: {n} + {m} = {total}.",
)

# --- recipes and lists -------------------------------------------------------------------------

POOLS["recipe.title"] = (
    "How to make {dish}",
    "Recipe: {dish} from {home}",
    "{dish}, the way they make it in {home}",
    "A simple recipe for {dish}",
    "{hero}'s {dish}",
)
POOLS["recipe.intro"] = (
    "{dish} is the famous dish of {home}, and this is how {hero} makes it.",
    "Everybody in {home} knows {dish}. This recipe serves {numword}.",
    "This {taste} recipe comes from {hero}, {a:job} in {home}.",
    "Make this on {a:weather} {time}, when you want something {taste}.",
)
POOLS["recipe.ingredients"] = ("Ingredients:", "You will need:", "What you need:", "Shopping list:")
POOLS["recipe.item.0"] = ("- {n} {unit} of {ingredient}",)
POOLS["recipe.item.1"] = ("* {ingredient} ({n} {unit})",)
POOLS["recipe.item.2"] = ("{n} {unit} {ingredient}",)
POOLS["recipe.item.3"] = ("- {ingredient}, about {n} {unit}",)
POOLS["recipe.steps"] = ("Method:", "Steps:", "How to make it:", "Instructions:")
POOLS["recipe.step"] = (
    "{step}. {cook_cap} the {ingredient} [gently|well|slowly|carefully].",
    "{step}. {cook_cap} the {ingredient} for {minutes} minutes.",
    "{step}. Add the {ingredient} and {cook} until it is {taste}.",
    "{step}. {cook_cap} everything together in {a:adj} pot.",
    "{step}. Let it rest for {minutes} minutes, then {cook} it again.",
    "{step}. Put the {ingredient} in a bowl and {cook} it {adv}.",
    "{step}. [Heat|Warm] the pan and {cook} the {ingredient}.",
    "{step}. {cook_cap} the {ingredient}, then add a pinch of {ingredient}.",
    "{step}. When it smells {taste}, {cook} the {ingredient}.",
    "{step}. Ask a friend to {cook} the {ingredient} while you wash the {objs}.",
)
POOLS["recipe.tip"] = (
    "Serve it warm with {ingredient}.",
    "It should taste {taste} and a little {taste}.",
    "Tip: in {season}, add some {ingredient} for extra taste.",
    "It tastes best on {a:weather} {time}.",
    "{hero} says it is even better the next day.",
    "Share it with your {family}.",
    "{hero} always {cook_third} the {ingredient} first.",
    "Some cooks serve it with {sweets} on the side.",
)
POOLS["list.title.market"] = (
    "Prices at the market in {home}",
    "What things cost in {home} this {season}",
    "Market list for {weekday}",
)
POOLS["list.title.people"] = (
    "Some people of {home} and their jobs",
    "Who is who in {home}",
    "Workers of {home}",
)
POOLS["list.title.countries"] = (
    "The countries of TinyWorld and their capitals",
    "Capitals of the world",
    "Countries and capital cities",
)
POOLS["list.title.animals"] = (
    "Animals and what they eat",
    "A guide to the animals of TinyWorld",
    "What animals eat",
)
POOLS["list.title.packing"] = (
    "Things to pack for a trip to {dest}",
    "{hero}'s packing list",
    "Packing list for {a:adj} journey",
)
LIST_STYLES = 5
POOLS["list.line.0"] = ("- {item}: {detail}",)
POOLS["list.line.1"] = ("* {item} ({detail})",)
POOLS["list.line.2"] = ("{n}. {item} - {detail}",)
POOLS["list.line.3"] = ("{item} ... {detail}",)
POOLS["list.line.4"] = ("- {item}, {detail}",)
POOLS["list.packing.0"] = ("- {a:adj} {obj}",)
POOLS["list.packing.1"] = ("* {numword} {objs}",)
POOLS["list.packing.2"] = ("{n}. {a:obj} for the {weather_noun}",)
POOLS["list.packing.3"] = ("- {numword} {adj} {objs}",)
POOLS["list.packing.4"] = ("{n}. {a:adj} {clothing}",)
RECIPE_STYLES = 4
POOLS["list.end"] = (
    "Prices and details may change with the {season}.",
    "This list was written by {hero} on {a:weather} {weekday}.",
    "Ask at the {place} if you want to know more.",
    "Keep this list in your {container}.",
)
