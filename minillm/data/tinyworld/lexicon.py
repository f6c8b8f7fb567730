"""Real English vocabulary for TinyWorld: attribute values of the world, plus story words.

The world's *names* are invented (see `names.py`); everything else a TinyWorld document says is
plain English drawn from the lists below. The lists are long on purpose: a language model should
see thousands of real word types, not a handful of templates, so that the corpus looks like
natural text to a tokenizer and to gzip.

    >>> from minillm.data.tinyworld import lexicon
    >>> "baker" in lexicon.JOBS
    True
"""

from __future__ import annotations

import re


def _words(text: str) -> tuple[str, ...]:
    """Split a whitespace list into a tuple without repeats; '_' stands for a space in an entry."""
    return tuple(dict.fromkeys(word.replace("_", " ") for word in text.split()))


# --- attribute values of the world (one value per fact, so answers stay unambiguous) ---------

JOBS = _words("""
baker farmer fisher potter weaver miller tailor carpenter blacksmith shepherd gardener
teacher doctor nurse painter sculptor singer drummer fiddler poet librarian clockmaker
glassblower cook brewer beekeeper boatbuilder sailor messenger mapmaker astronomer
engineer architect jeweller cobbler candlemaker bookbinder herbalist healer ranger
lighthouse_keeper toymaker hatmaker stonemason innkeeper merchant banker judge guard
scribe printer dyer rope_maker basket_weaver goatherd cheesemaker butcher grocer
""")

COLOURS = _words("""
red blue green yellow orange purple pink brown black white grey silver gold violet
turquoise crimson amber teal indigo scarlet maroon lavender beige olive
""")

HOBBIES = _words("""
painting fishing knitting singing dancing gardening reading swimming climbing sailing
juggling whistling drawing baking skating cycling rowing hiking stargazing birdwatching
woodcarving playing_chess shooting_arrows solving_riddles flying_kites telling_stories
drumming collecting_shells pressing_flowers building_boats weaving_baskets writing_poems
playing_the_flute sewing running doing_puzzles cooking making_pottery
""")

FOODS = _words("""
honey_cakes fish_soup apple_pie plum_dumplings cheese_bread mushroom_stew barley_porridge
pumpkin_pancakes berry_tarts roasted_chestnuts onion_pie lemon_biscuits pepper_noodles
bean_soup walnut_bread fried_dumplings cabbage_rolls carrot_cake potato_pancakes smoked_fish
rice_pudding ginger_buns pear_jam sweet_corn_soup spiced_lentils milk_toffee fig_rolls
oat_cookies cherry_pie tomato_stew
""")

CLIMATES = _words("cold warm rainy snowy windy foggy dry humid mild stormy sunny icy")

EXPORTS = _words("""
wool salt timber copper tea cotton silk honey cheese glass paper iron tin marble olives
rice grapes spices amber pearls leather pottery rope coffee linen
""")

LANDMARKS = _words("""
clock_tower stone_bridge lighthouse old_castle great_library glass_market bell_tower
round_temple harbour_gate windmill opera_house town_hall water_garden marble_fountain
royal_palace observatory hanging_garden sun_dial copper_dome tall_chimney
""")

ANIMAL_HABITATS = _words("""
forests caves marshes meadows deserts hills swamps mountains jungles lakes dunes cliffs
orchards rivers reeds
""")

ANIMAL_DIETS = _words("""
berries seeds grass leaves insects fish worms nuts roots mushrooms moss beetles snails
flowers fruit
""")

# (noun, third-person verb): "makes a squeak" / "squeaks". All start with a consonant.
ANIMAL_SOUNDS = {
    "hum": "hums",
    "squeak": "squeaks",
    "whistle": "whistles",
    "croak": "croaks",
    "chirp": "chirps",
    "growl": "growls",
    "purr": "purrs",
    "bark": "barks",
    "hoot": "hoots",
    "click": "clicks",
    "trill": "trills",
    "buzz": "buzzes",
    "honk": "honks",
    "bleat": "bleats",
    "howl": "howls",
    "snort": "snorts",
    "roar": "roars",
    "hiss": "hisses",
    "chatter": "chatters",
    "warble": "warbles",
}

ANIMAL_LEGS = (2, 4, 6, 8)

MATERIALS = _words("""
copper wood glass clay silver iron brass leather wool silk stone bone tin straw bamboo
linen paper cork felt marble
""")

ITEM_TYPES = _words("""
lamp hat bowl cup kettle basket spoon bell drum flute lantern clock comb brush kite whistle
compass mirror candle jug plate ladder rope chair stool box bag scarf shoe map needle
hammer bucket fan umbrella pot blanket pillow carpet
""")

# --- story vocabulary --------------------------------------------------------------------------

# Descriptive adjectives that fit objects, places and scenes.
ADJECTIVES = _words("""
big small tiny huge old new bright dark quiet noisy shiny dusty smooth rough soft hard warm
cool cold hot wet dry heavy light long short tall low wide narrow deep shallow clean dirty
empty full round square flat sharp blunt sticky fluffy fuzzy silky crooked straight golden
wooden rusty sparkling glowing faded painted polished cracked broken mended striped spotted
checked plain fancy simple strange curious odd ordinary lovely beautiful pretty handsome gentle
fierce wild calm busy lazy sleepy lively cheerful gloomy merry grand humble ancient cosy chilly
frosty misty foggy sunny cloudy breezy stormy muddy sandy rocky grassy leafy shady thorny
hollow solid fragile sturdy delicate enormous massive little crowded lonely hidden secret
famous precious valuable cheap costly useful colourful pale vivid dull musty damp soggy
slippery steep curved twisted tangled knotted patched woven carved gilded chipped dented bent
brittle springy bouncy wobbly creaky squeaky rattling humming buzzing whispering rustling
glittering shimmering twinkling flickering dazzling gleaming murky clear cloudless starry
moonlit sunlit shadowy peaceful restless magnificent splendid marvellous wonderful pleasant
unusual mysterious magical miniature spacious cramped tidy messy neat elegant clumsy graceful
distant nearby faraway remote familiar forgotten velvety woolly leathery feathery scaly furry
prickly bumpy lumpy
ample battered bleak blazing blotchy blurry broad bubbly bulky burnt bushy chalky charming
cheery chunky coarse comfortable creased crumbly crumpled crusty cuddly dappled decent dense
dewy dim dingy dizzy drab draughty dreary drowsy dusky earthy eerie elderly endless enchanted
even exotic faint feeble fiery flaky flimsy flowery fluttering foamy freckled frozen gaudy
ghostly giant gigantic glossy gnarled gooey gritty grubby gusty hairy hazy hefty hilly hooked
immense inky itchy jagged jolly jumbled knobbly lacy lanky lean majestic marbled mighty mossy
mottled muffled mushy noble nippy ornate overgrown padded patchy pearly pebbly peeling plump
pointed pointy puffy quaint ragged rainy rickety rippled roomy rosy rotten rounded rumpled
rugged scorched scratched scratchy scruffy sheer shabby shaggy sheltered shrill silvery
skinny sleek slender slim sloping smoky snowy snug soaked sparse speckled spiky spiral
splintered spotless spongy squat squashed stained starched steamy stiff stony stout
streaked stretchy stubby stuffy sunken swampy swollen tattered teeny thick thin threadbare
tiled tinted toasty towering tranquil trim twinkly uneven upright vast veiled velvet waxy
weathered weedy whiskery whitewashed windswept wintry wiry wrinkled yellowed zigzag airy
arched bare blank bleached chequered circular crystal dainty dotted double drifting dripping
echoing feathered fenced flooded folded forked frilly frosted glazed grimy heaped hooded
knitted laced leaning lidded lined looped masked oval paved peaked pleated quilted rimmed
rippling rolled rusted scalloped sealed shuttered sloped stacked stitched studded tasselled
tiered triangular tufted vaulted walled wavy webbed whirling winding woollen
""")

TASTES = _words("""
crunchy creamy juicy crispy spicy salty sour sweet bitter tender ripe fresh fragrant smoky
buttery nutty tangy zesty savoury sugary golden warm hearty rich light fluffy chewy
delicious tasty
""")

FEELINGS = _words("""
happy sad glad proud nervous scared afraid angry cross grumpy calm excited thrilled
delighted joyful cheerful gloomy lonely bored tired sleepy hungry thirsty curious
surprised amazed astonished puzzled confused worried anxious upset hopeful grateful
thankful relieved embarrassed ashamed jealous shy brave bold confident content peaceful
restless impatient eager keen determined disappointed heartbroken miserable cheerful
furious annoyed frustrated frightened terrified uneasy tense relaxed cosy safe warm
pleased satisfied overjoyed ecstatic giddy playful silly serious thoughtful dreamy
homesick nostalgic sorry guilty lucky blessed inspired encouraged
bewildered bashful blissful carefree dazed dejected doubtful downcast elated enchanted
exhausted fearful fidgety flustered fond gleeful glum grouchy hesitant hurt insecure irritable
jittery jubilant lighthearted listless melancholy mellow moody mournful offended optimistic
outraged overwhelmed panicky perplexed pessimistic rattled refreshed regretful rested
sheepish shocked sore startled stressed sulky sullen sympathetic tearful touched troubled
unhappy unsure upbeat vexed weary wistful woeful wonderstruck
""")

TRAITS = _words("""
kind brave clever shy curious honest patient gentle generous cheerful careful careless
clumsy wise foolish bold quiet loud friendly grumpy helpful stubborn polite rude lazy
hardworking thoughtful forgetful proud humble silly serious playful daring timid
cunning loyal trusting cautious restless dreamy sensible sharp witty modest cheeky
tidy messy adventurous sporty artistic musical talkative quick nimble strong
ambitious artful attentive boisterous bossy brainy charming chatty considerate courageous
courteous creative cranky dependable diligent dignified easygoing eccentric energetic fair
faithful fearless fussy gallant genial gifted hearty heroic imaginative industrious inventive
jovial kindly meek mischievous observant orderly outgoing practical prudent punctual quirky
reliable resourceful sincere skilful sly sociable spirited steady stern studious sunny thrifty
tireless trustworthy unselfish vain watchful whimsical wilful zealous
""")

ADVERBS = _words("""
slowly quickly carefully quietly loudly gently softly happily sadly eagerly bravely
proudly nervously calmly angrily politely kindly warmly suddenly finally slowly
patiently cheerfully brightly neatly tidily clumsily gracefully swiftly lazily
sleepily hungrily curiously anxiously hopefully gladly sharply boldly shyly wisely
silently smoothly roughly firmly tightly loosely briskly gingerly cautiously
thoughtfully playfully merrily joyfully gleefully wearily dreamily secretly openly
honestly truly really nearly almost barely hardly simply easily lightly heavily
steadily suddenly immediately soon later often always sometimes rarely never usually
together alone again once twice early late eventually luckily sadly strangely
abruptly absently awkwardly bashfully blindly breathlessly busily casually cheerily cleverly
closely comfortably contentedly crossly daintily deliberately delicately diligently
doubtfully dutifully elegantly endlessly energetically evenly faithfully fearlessly fiercely
fondly frankly freely frantically generously gloomily grandly gratefully greedily grimly
hastily heartily helpfully hurriedly innocently intently jauntily jealously keenly longingly
loyally madly meekly mildly mysteriously noisily obediently oddly peacefully perfectly
promptly quaintly rapidly readily reluctantly restlessly rudely safely scornfully seldom
selfishly sensibly seriously sheepishly shrilly slyly snugly solemnly speedily sternly
stiffly stubbornly sweetly tenderly tensely thankfully timidly tiredly triumphantly
truthfully unevenly urgently vaguely valiantly weakly wildly wistfully worriedly zealously
""")

OBJECTS = _words("""
ball book box cup bowl plate spoon fork knife key lock coin ring necklace bracelet button
ribbon string rope thread needle scissors pencil pen crayon paintbrush notebook letter
envelope stamp map compass clock watch bell whistle drum flute fiddle harp trumpet horn
kite balloon puzzle doll teddy_bear marble top yoyo sled wagon bicycle cart boat raft oar
paddle net fishing_rod bucket spade rake broom mop sponge towel blanket pillow quilt rug
curtain lamp lantern candle torch match mirror comb brush hat cap scarf glove mitten sock
shoe boot coat cloak jacket sweater shirt dress skirt apron belt bag basket sack pouch
purse wallet jar bottle jug kettle teapot pot pan tray shelf table chair stool bench
ladder fence gate door window wheel hammer nail saw drill screw bolt chisel shovel hoe
axe bag trunk chest suitcase parcel present card photo picture painting poster flag
banner sign ticket feather shell pebble stone crystal acorn pinecone leaf twig stick log
seed flower blossom sunflower tulip daisy rose lily violet fern moss mushroom berry
apple pear plum peach cherry lemon orange banana melon grape nut biscuit cake pie tart
bun loaf sandwich muffin pancake waffle cookie sweet lollipop candy cup saucer napkin
tablecloth vase globe telescope magnifying_glass spyglass microscope calculator ruler
eraser glue tape sticker marker chalk blackboard slate abacus dice domino card_deck
chessboard whistle harmonica tambourine xylophone accordion banjo guitar violin cello
piano organ bagpipe umbrella parasol fan hourglass sundial weathervane windmill
scarecrow birdhouse kennel hutch cage nest hive barrel crate sack wheelbarrow
anchor anvil armchair badge bandage barometer bathtub beacon bead bedspread beehive bellows
birdcage blindfold bobbin bookmark bottlecap brooch buckle cabinet calendar camera canoe
canteen carafe carriage cauldron chain chandelier clipboard cloth coaster cogwheel colander
cradle crown cushion dartboard desk diary dishcloth doorknob doormat drawer dustpan easel
eggcup figurine flask flowerpot footstool funnel goblet gong grater hairbrush hammock
handkerchief harness headband helmet hook hosepipe inkpot jigsaw kaleidoscope keyring
knapsack ladle lampshade latch lid locket loom magnet mallet mattress medal megaphone mortar
mug music_box nutcracker oilcan ornament padlock pail paperweight pendant pepperpot
pincushion pinwheel pipe pitcher plank pocketknife postcard quill rattle recorder
rocking_chair rolling_pin rucksack saddle saltshaker satchel sandal scoop scrapbook seashell
sewing_box shield sieve sketchbook skipping_rope slipper snow_globe soap spindle
spinning_top spool stepladder stopwatch strainer swing tankard tape_measure teacup teaspoon
thermos thimble tiara tin toolbox toothbrush trinket trolley trowel typewriter unicycle
walking_stick wardrobe washboard watering_can whisk wind_chime wreath
""")

PLACES = _words("""
market bakery library school garden park harbour beach forest meadow hill mountain valley
river lake pond stream waterfall cave bridge tower castle palace temple church square
street lane alley road path trail field farm barn orchard vineyard mill workshop shop
kitchen cellar attic bedroom porch balcony rooftop courtyard fountain well lighthouse
island cliff shore dock pier station inn tavern museum theatre stadium playground zoo
hospital post_office town_hall bookshop toyshop tea_room greenhouse stable pasture
swamp marsh desert dune glacier canyon plateau jungle grove thicket clearing hedge
allotment aqueduct arcade bandstand bathhouse bay boathouse boulevard brewery canal
carousel cathedral causeway chapel cloister cornfield cottage creek crossroads dairy dam dell
fairground ferry fishmarket footbridge forge fort gallery gatehouse granary hamlet heath
hermitage hillside hollow inlet jetty kiln laundry lagoon loft moor nursery pantry parlour
passage pavilion quarry quay ravine reservoir riverbank ruins sawmill schoolhouse shed
shipyard smithy storehouse summerhouse tannery terrace tollhouse treehouse tunnel village
warehouse watermill wharf woodland woodshed
""")

NATURE = _words("""
tree oak pine birch willow maple elm ash cedar cherry_tree apple_tree bush shrub hedge
flower rose tulip daisy poppy lily violet daffodil bluebell buttercup clover dandelion
sunflower lavender heather thistle fern moss grass reed vine ivy mushroom toadstool
stone rock boulder pebble shell cloud rainbow star moon sun sky wind breeze storm
thunder lightning rain drizzle snow snowflake frost icicle fog mist dew puddle wave
tide sand mud leaf acorn pinecone branch twig log root blossom petal seed berry
""")

REAL_ANIMALS = _words("""
cat dog horse cow pig sheep goat duck goose hen chicken rooster rabbit mouse rat squirrel
hedgehog fox wolf bear deer moose badger otter beaver frog toad snail slug worm bee wasp
ant butterfly moth beetle ladybird spider owl crow raven robin sparrow swallow pigeon
eagle hawk falcon parrot swan heron stork seagull penguin turtle tortoise lizard snake
crocodile fish salmon trout whale dolphin seal walrus octopus crab lobster shrimp
lion tiger leopard cheetah elephant giraffe zebra monkey gorilla camel kangaroo koala
panda donkey mule ox bat
hamster guinea_pig ferret mole vole shrew weasel stoat lynx bison buffalo antelope gazelle yak
llama alpaca hare pony lamb kitten puppy hippo rhino jaguar panther hyena jackal meerkat
armadillo sloth porcupine raccoon skunk chipmunk newt salamander tadpole dragonfly
grasshopper cricket caterpillar firefly centipede jellyfish starfish seahorse oyster eel pike
carp minnow herring sardine shark
""")

INGREDIENTS = _words("""
flour sugar butter salt pepper honey milk cream cheese yoghurt oil vinegar rice barley oats
lentils beans peas corn potatoes carrots onions garlic leeks cabbage spinach lettuce
celery parsley basil thyme rosemary mint dill ginger cinnamon nutmeg cloves saffron
vanilla cocoa chocolate raisins dates figs apricots plums cherries apples pears lemons
oranges berries strawberries raspberries blueberries walnuts almonds hazelnuts chestnuts
pumpkin squash mushrooms tomatoes peppers cucumbers radishes turnips beetroot eggs yeast
buckwheat rye semolina cornmeal breadcrumbs noodles sausages bacon ham chicken mutton
anchovies mackerel prawns mussels chickpeas shallots chives coriander cumin paprika turmeric
cardamom fennel sage oregano tarragon mustard horseradish capers pickles gherkins
cranberries gooseberries blackberries currants elderberries rhubarb quinces nectarines
pineapple coconut mango limes molasses treacle syrup marmalade custard gravy broth lard
buttermilk curds honeycomb sesame_seeds poppy_seeds pine_nuts pecans pistachios peanuts
cashews
""")

UNITS = _words("cups spoonfuls handfuls pinches jars bowls pounds ounces bunches slices")

COOKING_VERBS = _words("""
stir mix whisk chop slice dice grate peel mash knead roll fold pour sprinkle bake boil
simmer fry roast toast steam melt blend season taste cool chill wrap drain rinse crush
""")

# Verbs that make sense with almost any small object ("{verb} the lantern").
OBJECT_VERBS = _words("""
find carry clean drop hold hide lose wrap wash paint fix bring share lift borrow buy sell
count show admire examine polish mend repair fold pack unpack open close fill empty shake
spin throw catch kick push pull drag stack sort tidy decorate draw measure weigh test
pick_up put_down give_away hand_over look_for search_for take keep save trade collect
guard return deliver fetch grab squeeze stroke tap knock rattle
inspect sketch sharpen scrub dust sweep brush label stamp tie untie lock unlock bury hang
arrange scatter gather pile balance toss wave flip twirl cuddle feed water trim
""")

MOTION_VERBS = _words("""
walk run hurry stroll wander skip race dash tiptoe march climb hop jump crawl creep
sneak rush trot jog amble stride wade swim paddle row sail ride cycle drift roam
scramble stumble plod trudge shuffle zoom dart glide float
""")

SPEECH_VERBS = _words("""
say whisper shout laugh reply ask call cry murmur announce explain answer giggle sigh
mutter grumble exclaim declare add chuckle yell sing gasp groan mumble insist admit
suggest promise
""")

SOUND_VERBS = _words("""
creak rattle buzz hum hiss crackle rustle whistle clang clatter jingle ring chime drip
splash bubble thump boom roar howl squeak rumble tinkle
""")

# Verbs whose past/participle forms do not follow the spelling rules below.
IRREGULAR_PAST = {
    "find": "found",
    "hold": "held",
    "hide": "hid",
    "lose": "lost",
    "bring": "brought",
    "buy": "bought",
    "sell": "sold",
    "show": "showed",
    "shake": "shook",
    "spin": "spun",
    "throw": "threw",
    "catch": "caught",
    "draw": "drew",
    "pick": "picked",
    "put": "put",
    "give": "gave",
    "hand": "handed",
    "look": "looked",
    "search": "searched",
    "take": "took",
    "keep": "kept",
    "run": "ran",
    "swim": "swam",
    "ride": "rode",
    "creep": "crept",
    "say": "said",
    "cry": "cried",
    "sing": "sang",
    "ring": "rang",
    "make": "made",
    "grind": "ground",
    "slide": "slid",
    "stride": "strode",
    "drink": "drank",
    "eat": "ate",
    "sit": "sat",
    "stand": "stood",
    "fly": "flew",
    "see": "saw",
    "go": "went",
    "come": "came",
    "feel": "felt",
    "think": "thought",
    "tell": "told",
    "know": "knew",
    "grow": "grew",
    "blow": "blew",
    "build": "built",
    "dig": "dug",
    "win": "won",
    "sleep": "slept",
    "sweep": "swept",
    "fall": "fell",
    "leave": "left",
    "meet": "met",
    "read": "read",
    "write": "wrote",
    "begin": "began",
    "forget": "forgot",
    "get": "got",
    "wake": "woke",
    "weave": "wove",
    "teach": "taught",
    "fight": "fought",
    "bake": "baked",
    "dive": "dove",
    "hang": "hung",
    "feed": "fed",
    "split": "split",
    "sew": "sewed",
    "sow": "sowed",
    "wind": "wound",
}
# One-syllable verbs ending consonant-vowel-consonant double the last letter (stop -> stopped).
DOUBLING_VERBS = frozenset(
    _words("""
stop drop hop skip clap hug grab pat tap nod wag hum jog plan trip ship shop chop spin drag
admit put
swim run dig win sit get begin forget knit stir rub scrub chat wrap plod dip dab dot step
trot zip strum drip pop scan skim mop sob grin stab snap tan blot flap split shrug
""")
)

CLOTHING = _words("""
hat cap scarf coat cloak jacket sweater shirt dress apron belt shawl bonnet waistcoat
raincoat cardigan kilt poncho sash tunic veil bow_tie smock nightgown pinafore
""")

CONTAINERS = _words("bag basket pocket satchel backpack box pouch sack")

MORALS = (
    "kindness always comes back to you.",
    "a friend in need is a friend indeed.",
    "slow and steady wins the race.",
    "it is better to ask for help than to struggle alone.",
    "small steps can lead to big adventures.",
    "honesty makes every problem smaller.",
    "sharing makes happiness grow.",
    "patience is a kind of courage.",
    "every mistake is a chance to learn.",
    "home is where your friends are.",
    "being brave does not mean you are never afraid.",
    "a tidy workshop saves a lot of time.",
    "listening is as important as talking.",
    "hard work is easier with a song.",
    "even a small helper can make a big difference.",
    "curiosity opens many doors.",
    "saying sorry takes courage, and it mends friendships.",
    "the best gifts are made with care.",
    "you should always look after the things you love.",
    "a good plan starts with a good breakfast.",
)

GESTURE_VERBS = _words("""
smile frown blush shiver tremble nod shrug wink grin sob yawn sneeze cough stretch wave bow
kneel clap blink squint wriggle fidget beam pout gulp hiccup
""")

WORK_VERBS = _words("""
build carve plant sew knit weave sketch brew stitch hammer varnish glue sand plaster thatch
dye pickle harvest gather shear churn grind chop split plough sow polish paint mend
""")

TOOLS = _words("""
hammer saw chisel drill spade rake hoe trowel shears pliers wrench spanner file plane mallet
awl needle thimble loom spindle anvil tongs bellows sickle scythe pitchfork crowbar lever
pulley ladder wheelbarrow
""")

INSTRUMENTS = _words("""
fiddle harp flute drum trumpet horn harmonica tambourine xylophone accordion banjo guitar
violin cello piano organ lute recorder whistle bugle triangle oboe clarinet
bassoon trombone tuba mandolin zither
""")

TREES = _words("""
oak pine birch willow maple elm ash cedar beech chestnut hazel holly larch poplar rowan spruce
sycamore yew alder aspen cypress fir hawthorn juniper linden magnolia mulberry palm walnut
""")

FLOWERS = _words("""
rose tulip daisy poppy lily violet daffodil bluebell buttercup clover dandelion sunflower
primrose snowdrop crocus iris orchid marigold pansy peony foxglove honeysuckle jasmine lilac
lupin carnation cornflower hyacinth snapdragon geranium begonia dahlia aster cowslip
""")

BIRDS = _words("""
owl crow raven robin sparrow swallow pigeon eagle hawk falcon parrot swan heron stork seagull
blackbird thrush wren starling magpie jay finch goldfinch kingfisher woodpecker lark
nightingale cuckoo pelican flamingo peacock puffin albatross crane kestrel buzzard partridge
pheasant quail
""")

IDEAS = _words("""
idea dream secret promise plan song story joke riddle wish memory question surprise
adventure mystery game lesson rule habit hope worry trick tune rhyme poem message rumour
legend chore task errand holiday festival feast party picnic parade race match prize
favour mistake problem reason
""")

# Extra jobs for background characters (the world's own JOBS stay a fixed list of facts).
EXTRA_JOBS = _words("""
acrobat actor archivist auctioneer barber boatman bricklayer chemist chimney_sweep clerk
coachman conductor courier dancer dentist diver explorer ferryman firefighter florist
gamekeeper goldsmith guide hairdresser harpist inventor janitor jester juggler lamplighter
locksmith magician mechanic miner musician navigator organist pharmacist photographer pilot
plumber postman puppeteer quilter rancher saddler scientist shipwright shopkeeper silversmith
storyteller surveyor tanner thatcher tinker watchmaker woodcutter zookeeper
""")

SHADES = _words("""
emerald ruby sapphire cream ivory charcoal bronze rust mustard coral jade navy aqua khaki mauve
ochre cherry rose lemon mint chocolate honey slate
""")

SWEETS = _words("""
toffee fudge gingerbread marzipan nougat meringue doughnut scone crumpet pudding trifle
shortbread flapjack pastry strudel brownie cupcake macaroon lozenge liquorice sherbet
caramel jelly custard_tart bun cracker wafer praline truffle
""")

HOUSE_PARTS = _words("""
roof chimney gable porch doorway staircase windowsill rafter banister cupboard hearth
fireplace mantelpiece skylight veranda threshold corridor hallway gutter drainpipe weathercock
shutter railing doorstep gatepost archway
""")

FABRICS = _words("""
tweed denim satin lace gingham corduroy flannel calico chiffon muslin canvas hessian cotton
velvet wool silk linen felt
""")

GEMS = _words("garnet opal topaz amethyst pearl onyx agate quartz jasper beryl")

BODY_PARTS = _words("hands feet knees shoulders elbows fingers toes legs arms")

EXCLAMATIONS = _words("""
Oh_dear! Hooray! Look_at_that! What_a_surprise! Oh_no! Wow! Goodness_me! How_lovely!
Well_done! Hurry_up! Watch_out! Come_quickly! I_can_do_it! We_did_it! Not_again!
What_a_mess! How_strange! Thank_you! That_is_amazing! Let_us_go! Listen! Be_careful!
Wait_for_me! Over_here! Just_in_time! What_a_day!
""")

GREETINGS = _words("""
Hello Hi Good_morning Good_afternoon Good_evening Hey_there Well_met Greetings
Hello_again Nice_to_see_you
""")

FAREWELLS = _words("""
Goodbye See_you_soon Take_care Farewell Bye_for_now Until_tomorrow Safe_travels
Have_a_good_day Good_night See_you_later
""")

TIMES_OF_DAY = _words("""
morning afternoon evening night dawn dusk noon midnight sunrise sunset teatime
""")
SEASONS = _words("spring summer autumn winter")
WEEKDAYS = _words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
MONTHS = _words("""
January February March April May June July August September October November December
""")

# Weather words for each climate, so stories agree with the facts of the country.
WEATHER_BY_CLIMATE = {
    "cold": _words("chilly frosty bitter crisp freezing grey"),
    "warm": _words("warm balmy pleasant golden gentle mild"),
    "rainy": _words("rainy drizzly wet showery grey soggy"),
    "snowy": _words("snowy white frosty freezing wintry icy"),
    "windy": _words("windy gusty blustery breezy wild howling"),
    "foggy": _words("foggy misty hazy grey murky damp"),
    "dry": _words("dry dusty parched hot baking cloudless"),
    "humid": _words("humid sticky steamy muggy heavy close"),
    "mild": _words("mild soft pleasant calm fair gentle"),
    "stormy": _words("stormy thundery wild dark gusty rough"),
    "sunny": _words("sunny bright cloudless golden dazzling clear"),
    "icy": _words("icy frozen bitter glittering freezing frosty"),
}

WEATHER_NOUNS = _words("""
rain snow fog wind hail thunder drizzle frost mist breeze sunshine sleet clouds storm
""")

FAMILY = _words("""
mother father grandmother grandfather aunt uncle sister brother cousin neighbour
teacher friend baby daughter son
""")

NUMBER_WORDS = _words("""
zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
fifteen sixteen seventeen eighteen nineteen twenty
""")

# Nouns whose plural is not noun + s/es.
IRREGULAR_PLURALS = {
    "knife": "knives",
    "leaf": "leaves",
    "loaf": "loaves",
    "wolf": "wolves",
    "shelf": "shelves",
    "scarf": "scarves",
    "child": "children",
    "mouse": "mice",
    "goose": "geese",
    "sheep": "sheep",
    "fish": "fish",
    "deer": "deer",
    "foot": "feet",
    "tooth": "teeth",
    "man": "men",
    "woman": "women",
    "person": "people",
    "potato": "potatoes",
    "tomato": "tomatoes",
    "hero": "heroes",
    "ox": "oxen",
    "calf": "calves",
    "half": "halves",
    "life": "lives",
    "thief": "thieves",
    "elf": "elves",
    "moose": "moose",
    "salmon": "salmon",
    "trout": "trout",
    "shrimp": "shrimp",
    "scissors": "scissors",
    "volcano": "volcanoes",
    "dice": "dice",
    "glass": "glasses",
    "domino": "dominoes",
    "yoyo": "yoyos",
    "piano": "pianos",
    "cello": "cellos",
    "banjo": "banjos",
    "photo": "photos",
    "shears": "shears",
    "pliers": "pliers",
    "tongs": "tongs",
    "bellows": "bellows",
    "bagpipes": "bagpipes",
    "cymbals": "cymbals",
}


def plural_of(noun: str) -> str:
    """English plural: 'box' -> 'boxes', 'berry' -> 'berries', 'teddy bear' -> 'teddy bears'."""
    head, _, last = noun.rpartition(" ")
    prefix = head + " " if head else ""
    if last in IRREGULAR_PLURALS:
        return prefix + IRREGULAR_PLURALS[last]
    if last.endswith("man") and last not in ("human", "german"):
        return prefix + last[:-3] + "men"
    if last.endswith(("s", "x", "z", "ch", "sh")):
        return prefix + last + "es"
    if last.endswith("y") and last[-2:-1] not in ("a", "e", "i", "o", "u"):
        return prefix + last[:-1] + "ies"
    return prefix + last + "s"


def _split_verb(verb: str) -> tuple[str, str]:
    head, _, particle = verb.partition(" ")
    return head, (" " + particle if particle else "")


def past_of(verb: str) -> str:
    """'walk' -> 'walked', 'stop' -> 'stopped', 'carry' -> 'carried', 'pick up' -> 'picked up'."""
    head, particle = _split_verb(verb)
    if head in IRREGULAR_PAST:
        return IRREGULAR_PAST[head] + particle
    if head.endswith("e"):
        return head + "d" + particle
    if head.endswith("y") and head[-2] not in "aeiou":
        return head[:-1] + "ied" + particle
    if head in DOUBLING_VERBS:
        return head + head[-1] + "ed" + particle
    return head + "ed" + particle


def ing_of(verb: str) -> str:
    """'walk' -> 'walking', 'make' -> 'making', 'stop' -> 'stopping', 'tie' -> 'tying'."""
    head, particle = _split_verb(verb)
    if head.endswith("ie"):
        return head[:-2] + "ying" + particle
    if head.endswith("e") and not head.endswith(("ee", "ye", "oe")) and len(head) > 2:
        return head[:-1] + "ing" + particle
    if head in DOUBLING_VERBS:
        return head + head[-1] + "ing" + particle
    return head + "ing" + particle


def third_person_of(verb: str) -> str:
    """'walk' -> 'walks', 'wash' -> 'washes', 'carry' -> 'carries'."""
    head, particle = _split_verb(verb)
    if head.endswith(("s", "x", "z", "ch", "sh", "o")):
        return head + "es" + particle
    if head.endswith("y") and head[-2] not in "aeiou":
        return head[:-1] + "ies" + particle
    return head + "s" + particle


# Short function words; invented names must not collide with these either.
FUNCTION_WORDS = _words("""
a an the and or but if then so as at by for from in into of off on onto out over to up with
about above after again against all am any are be because been before being below between
both can could did do does doing down during each few had has have having he her here hers
him his how i is it its me more most my no nor not now once only other our ours own same she
should some such than that their them there these they this those through too under until
very was we were what when where which while who whom why will would you your yes
""")


def english_words() -> frozenset[str]:
    """Every lowercase word used anywhere in this lexicon (to keep invented names clear of them)."""
    words: set[str] = set()
    for name, value in globals().items():
        if not name.isupper() or not isinstance(value, tuple | dict):
            continue
        entries = value.items() if isinstance(value, dict) else value
        for entry in entries:
            parts = entry if isinstance(entry, tuple) else (entry,)
            for part in parts:
                if isinstance(part, str):
                    words.update(re.findall(r"[a-z]+", part.lower()))
    return frozenset(words)
